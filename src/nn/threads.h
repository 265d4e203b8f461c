// The thread count of libtorch's intra-op pool, set once at start-up by the CLI (`--threads`),
// from code that does not include torch.
#pragma once

namespace doppel::nn {

void set_threads(int threads);

}  // namespace doppel::nn
