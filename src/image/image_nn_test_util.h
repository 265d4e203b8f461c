// Test helpers of the neural image encoder: photos of coloured shapes the tests draw, and a
// ViT-MAE small enough to train in about a second.
#pragma once

#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <random>

#include "image/mae_trainer.h"
#include "image/neural_image_encoder.h"
#include "image/vit_mae_config.h"

namespace doppel::testing {

// A 96×80 photo: a background colour and one filled rectangle or circle of another colour.
inline cv::Mat shape_photo(int index) {
  std::mt19937 rng(static_cast<unsigned>(index));
  std::uniform_int_distribution<int> colour(0, 255), place(10, 60);
  cv::Mat image(80, 96, CV_8UC3, cv::Scalar(colour(rng), colour(rng), colour(rng)));
  const cv::Scalar fill(colour(rng), colour(rng), colour(rng));
  if (index % 2 == 0) {
    cv::rectangle(image, cv::Rect(place(rng), place(rng) / 2, 30, 25), fill, cv::FILLED);
  } else {
    cv::circle(image, cv::Point(place(rng), place(rng)), 15, fill, cv::FILLED);
  }
  return image;
}

// 64² model input: 2×2 views of 32², 8 px patches (64 tokens as the real 128²/16 px recipe).
inline ViTMAEConfig tiny_config() {
  ViTMAEConfig c;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.image_size = 64;
  c.patch_size = 8;
  c.decoder_hidden_size = 32;
  c.decoder_num_hidden_layers = 1;
  c.decoder_num_attention_heads = 2;
  c.decoder_intermediate_size = 64;
  return c;
}

inline ImageEncoderConfig tiny_encoder(ImageInput input = ImageInput::kStructured) {
  ImageEncoderConfig e;
  e.input = input;
  e.patches.cell_size = 32;
  e.full_size = 64;
  e.out_dim = 8;
  return e;
}

inline MaeOptions quick_mae(int64_t steps) {
  MaeOptions o;
  o.batch_size = 8;
  o.epochs = 1000;
  o.max_steps = steps;
  o.log_every = 5;
  o.checkpoint_every = 10;
  o.optimizer.lr = 3e-3;
  return o;
}

}  // namespace doppel::testing
