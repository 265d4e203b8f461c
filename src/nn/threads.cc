#include "nn/threads.h"

#include <ATen/Parallel.h>

namespace doppel::nn {

void set_threads(int threads) { at::set_num_threads(threads); }

int threads() { return at::get_num_threads(); }

}  // namespace doppel::nn
