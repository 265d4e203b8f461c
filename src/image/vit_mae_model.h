// ViT masked autoencoder (He et al. 2021) as libtorch modules whose parameter names are those of
// Hugging Face's ViTMAEForPreTraining, so module_state()/load_into() (nn/state_dict.h) move
// weights between doppel and transformers checkpoints without a renaming table:
//
//   vit.embeddings.cls_token [1,1,H], vit.embeddings.position_embeddings [1,1+N,H] (fixed 2-D
//   sin-cos, stored), vit.embeddings.patch_embeddings.projection.{weight,bias} (Conv2d p×p/p)
//   vit.encoder.layer.<i>.{layernorm_before,layernorm_after}.*
//   vit.encoder.layer.<i>.attention.attention.{query,key,value}.*, .attention.output.dense.*
//   vit.encoder.layer.<i>.intermediate.dense.*, .output.dense.*, vit.layernorm.*
//   decoder.decoder_embed.*, decoder.mask_token [1,1,D], decoder.decoder_pos_embed [1,1+N,D],
//   decoder.decoder_layers.<i>.<same layer names>, decoder.decoder_norm.*, decoder.decoder_pred.*
//
// Layers are pre-LayerNorm (x + attn(LN(x)), then x + MLP(LN(x))), as ViTMAELayer.
//
// Pretraining follows MAE and transformers exactly: patch tokens get their position embeddings,
// then per image the int(N·(1-mask_ratio)) patches of lowest noise are kept (noise ~ U[0,1) unless
// given), the encoder sees CLS + those, the decoder sees every position (mask tokens for the
// hidden ones) and predicts each patch's pixels; the loss is the MSE on the hidden patches only,
// against pixels normalised per patch when norm_pix_loss. Patches are flattened (row, column,
// channel) as HF's patchify.
//
// Internal to the torch-using .cc files of the image module.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "image/vit_mae_config.h"

namespace doppel {

// MAE's fixed 2-D sin-cos position embeddings for a grid × grid patch layout, with a zero row for
// CLS in front: [1 + grid², dim]. For patch (row i, column j) at index i·grid + j the first half
// encodes j and the second half i (as transformers' get_2d_sincos_pos_embed).
torch::Tensor sincos_position_embeddings(int dim, int grid);

class ViTMAELayerImpl : public torch::nn::Module {
 public:
  ViTMAELayerImpl(int hidden, int heads, int intermediate, const ViTMAEConfig& config);
  torch::Tensor forward(const torch::Tensor& x);  // [B,T,hidden] -> [B,T,hidden]

 private:
  int heads_;
  std::string act_;
  torch::nn::LayerNorm norm_before_{nullptr}, norm_after_{nullptr};
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, attention_dense_{nullptr};
  torch::nn::Linear intermediate_{nullptr}, output_dense_{nullptr};
  torch::nn::Dropout dropout_{nullptr}, attention_dropout_{nullptr};
};
TORCH_MODULE(ViTMAELayer);

// The encoder with masking: HF's ViTMAEModel ("vit." inside ViTMAEForPreTraining).
class ViTMAEModelImpl : public torch::nn::Module {
 public:
  explicit ViTMAEModelImpl(const ViTMAEConfig& config);

  struct MaskedEncoding {
    torch::Tensor hidden;       // [B, 1 + kept, H] after the final LayerNorm
    torch::Tensor mask;         // [B, N] float: 1 for hidden patches, 0 for kept ones
    torch::Tensor ids_restore;  // [B, N] int64: where each shuffled token goes back to
  };

  // Every patch: [B, 1 + N, H] after the final LayerNorm (CLS first). pixels [B,C,S,S] with S a
  // multiple of patch_size; an S other than image_size gets the sin-cos position embeddings of its
  // own grid (exact for MAE's fixed embeddings: the patch scale stays 16 px).
  torch::Tensor forward(const torch::Tensor& pixels);
  // Pretraining: only the patches MAE keeps. noise [B,N] (empty: uniform random).
  MaskedEncoding forward_masked(const torch::Tensor& pixels, const torch::Tensor& noise);

  const ViTMAEConfig& config() const { return config_; }

 private:
  torch::Tensor patch_tokens(const torch::Tensor& pixels);  // [B,N,H] with positions
  torch::Tensor encode(torch::Tensor tokens);                // layers + final norm

  ViTMAEConfig config_;
  torch::Tensor cls_token_, position_embeddings_;
  torch::nn::Conv2d projection_{nullptr};
  std::vector<ViTMAELayer> layers_;
  torch::nn::LayerNorm norm_{nullptr};
  std::map<int, torch::Tensor> other_grid_positions_;  // grid -> [1,1+grid²,H], built on demand
};
TORCH_MODULE(ViTMAEModel);

class ViTMAEDecoderImpl : public torch::nn::Module {
 public:
  explicit ViTMAEDecoderImpl(const ViTMAEConfig& config);
  // latent [B, 1 + kept, H], ids_restore [B, N] -> pixel predictions [B, N, p²·C].
  torch::Tensor forward(const torch::Tensor& latent, const torch::Tensor& ids_restore);

 private:
  torch::nn::Linear embed_{nullptr}, pred_{nullptr};
  torch::Tensor mask_token_, pos_embed_;
  std::vector<ViTMAELayer> layers_;
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(ViTMAEDecoder);

class ViTMAEForPreTrainingImpl : public torch::nn::Module {
 public:
  explicit ViTMAEForPreTrainingImpl(const ViTMAEConfig& config);

  struct Output {
    torch::Tensor loss;    // scalar: MSE over the hidden patches
    torch::Tensor logits;  // [B, N, p²·C]
    torch::Tensor mask;    // [B, N]
  };
  // pixels [B,C,image_size,image_size]; noise as ViTMAEModel::forward_masked.
  Output forward(const torch::Tensor& pixels, const torch::Tensor& noise = {});

  // [B,C,S,S] -> [B, (S/p)², p²·C], each patch flattened (row, column, channel).
  torch::Tensor patchify(const torch::Tensor& pixels) const;

  const ViTMAEConfig& config() const { return vit->config(); }

  ViTMAEModel vit{nullptr};
  ViTMAEDecoder decoder{nullptr};
};
TORCH_MODULE(ViTMAEForPreTraining);

}  // namespace doppel
