#include "nn/threads.h"

#include <ATen/Parallel.h>

namespace doppel::nn {

void set_threads(int threads) { at::set_num_threads(threads); }

}  // namespace doppel::nn
