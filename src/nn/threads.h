// The thread count of libtorch's intra-op pool, set once at start-up by the CLI (`--threads`),
// from code that does not include torch.
#pragma once

namespace doppel::nn {

void set_threads(int threads);
int threads();  // the current intra-op thread count

}  // namespace doppel::nn
