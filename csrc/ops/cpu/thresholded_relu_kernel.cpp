// CPU kernels: pick the loops built for this CPU, run them in parallel over dense memory, and
// fall back to TensorIterator for strided views.
#include "ops/cpu/thresholded_relu_loops.h"
#include "ops/thresholded_relu.h"

#include <ATen/Parallel.h>
#include <ATen/TensorIterator.h>
#include <ATen/Version.h>
#include <ATen/ops/empty_like.h>
#include <torch/library.h>

#include <cstdint>
#include <string>

namespace torch_ext::cpu {
namespace {

using detail::storage_t;

template <typename scalar_t>
struct Loops {
  decltype(&DEFAULT::forward_contiguous<scalar_t>) forward;
  decltype(&DEFAULT::inplace_contiguous<scalar_t>) inplace;
  decltype(&DEFAULT::backward_contiguous<scalar_t>) backward;
};

#define TORCH_EXT_LOOPS_OF(capability)                                           \
  Loops<scalar_t> {                                                              \
    &capability::forward_contiguous<scalar_t>, &capability::inplace_contiguous<scalar_t>, \
        &capability::backward_contiguous<scalar_t>                               \
  }

// The loops for the best capability of this CPU, as ATen chose it for its own kernels
// ("AVX512", "AVX2", "DEFAULT", ...). It honours the ATEN_CPU_CAPABILITY environment
// variable, so tests can force each path.
template <typename scalar_t>
const Loops<scalar_t>& loops() {
  static const Loops<scalar_t> chosen = [] {
    [[maybe_unused]] const std::string capability = at::get_cpu_capability();
#ifdef TORCH_EXT_HAVE_AVX512
    if (capability == "AVX512") {
      return TORCH_EXT_LOOPS_OF(AVX512);
    }
#endif
#ifdef TORCH_EXT_HAVE_AVX2
    if (capability == "AVX2" || capability == "AVX512") {
      return TORCH_EXT_LOOPS_OF(AVX2);
    }
#endif
    return TORCH_EXT_LOOPS_OF(DEFAULT);
  }();
  return chosen;
}

template <typename scalar_t>
storage_t<scalar_t>* storage_ptr(const at::Tensor& t) {
  return static_cast<storage_t<scalar_t>*>(t.data_ptr());
}

template <typename scalar_t>
const storage_t<scalar_t>* const_storage_ptr(const at::Tensor& t) {
  return static_cast<const storage_t<scalar_t>*>(t.const_data_ptr());
}

// Runs `contiguous_loop(pointers..., n)` over every element of the iterator's operands: on
// whole inner rows when they are contiguous, element by element through `element` otherwise.
template <typename storage, int kOperands, typename ContiguousLoop, typename Element>
void for_each_element(at::TensorIterator& iter, ContiguousLoop contiguous_loop, Element element) {
  iter.for_each(
      [&](char** data, const int64_t* strides, int64_t size0, int64_t size1) {
        bool inner_contiguous = true;
        for (int k = 0; k < kOperands; ++k) {
          inner_contiguous &= strides[k] == static_cast<int64_t>(sizeof(storage));
        }
        for (int64_t j = 0; j < size1; ++j) {
          char* ptrs[kOperands];
          for (int k = 0; k < kOperands; ++k) {
            ptrs[k] = data[k] + j * strides[kOperands + k];
          }
          if (inner_contiguous) {
            contiguous_loop(ptrs, size0);
          } else {
            for (int64_t i = 0; i < size0; ++i) {
              char* at_i[kOperands];
              for (int k = 0; k < kOperands; ++k) {
                at_i[k] = ptrs[k] + i * strides[k];
              }
              element(at_i);
            }
          }
        }
      },
      at::internal::GRAIN_SIZE);
}

// Writes thresholded_relu(x) into out, which is either x itself or has x's shape and dtype.
void forward_into(const at::Tensor& out, const at::Tensor& x, double theta) {
  const bool inplace = out.is_same(x);
  TORCH_EXT_DISPATCH_ALL_TYPES(x.scalar_type(), "thresholded_relu_cpu", [&] {
    using storage = storage_t<scalar_t>;
    const storage threshold = detail::ThresholdRule<scalar_t>::threshold(theta);
    const auto& fns = loops<scalar_t>();
    const bool same_dense_layout = x.is_non_overlapping_and_dense() &&
        (inplace || out.strides() == x.strides());
    if (same_dense_layout) {
      // Dense memory in one order for both: one flat loop, whatever the strides.
      storage* out_data = storage_ptr<scalar_t>(out);
      const storage* x_data = const_storage_ptr<scalar_t>(x);
      at::parallel_for(0, x.numel(), at::internal::GRAIN_SIZE, [&](int64_t begin, int64_t end) {
        if (inplace) {
          fns.inplace(out_data + begin, end - begin, threshold);
        } else {
          fns.forward(x_data + begin, out_data + begin, end - begin, threshold);
        }
      });
      return;
    }
    auto iter = at::TensorIteratorConfig()
                    .add_output(out)
                    .add_const_input(x)
                    .set_check_mem_overlap(!inplace)
                    .build();
    for_each_element<storage, 2>(
        iter,
        [&](char** p, int64_t n) {
          if (inplace) {
            fns.inplace(reinterpret_cast<storage*>(p[0]), n, threshold);
          } else {
            fns.forward(reinterpret_cast<const storage*>(p[1]), reinterpret_cast<storage*>(p[0]),
                        n, threshold);
          }
        },
        [&](char** p) {
          *reinterpret_cast<storage*>(p[0]) =
              detail::forward_value<scalar_t>(*reinterpret_cast<const storage*>(p[1]), threshold);
        });
  });
}

void backward_into(
    const at::Tensor& grad_input,
    const at::Tensor& grad_output,
    const at::Tensor& result,
    double theta) {
  TORCH_EXT_DISPATCH_FLOATING_TYPES(result.scalar_type(), "thresholded_relu_backward_cpu", [&] {
    using storage = storage_t<scalar_t>;
    const storage threshold = detail::ThresholdRule<scalar_t>::threshold(theta);
    const auto loop = loops<scalar_t>().backward;
    if (result.is_non_overlapping_and_dense() && grad_output.strides() == result.strides()) {
      const storage* dy = const_storage_ptr<scalar_t>(grad_output);
      const storage* y = const_storage_ptr<scalar_t>(result);
      storage* dx = storage_ptr<scalar_t>(grad_input);
      at::parallel_for(0, result.numel(), at::internal::GRAIN_SIZE, [&](int64_t begin, int64_t end) {
        loop(dy + begin, y + begin, dx + begin, end - begin, threshold);
      });
      return;
    }
    auto iter = at::TensorIteratorConfig()
                    .add_output(grad_input)
                    .add_const_input(grad_output)
                    .add_const_input(result)
                    .build();
    for_each_element<storage, 3>(
        iter,
        [&](char** p, int64_t n) {
          loop(reinterpret_cast<const storage*>(p[1]), reinterpret_cast<const storage*>(p[2]),
               reinterpret_cast<storage*>(p[0]), n, threshold);
        },
        [&](char** p) {
          *reinterpret_cast<storage*>(p[0]) = detail::backward_value<scalar_t>(
              *reinterpret_cast<const storage*>(p[1]), *reinterpret_cast<const storage*>(p[2]),
              threshold);
        });
  });
}

}  // namespace

TORCH_LIBRARY_IMPL(torch_ext, CPU, m) {
  m.impl("thresholded_relu", &detail::forward_kernel<forward_into>);
  m.impl("thresholded_relu_", &detail::inplace_kernel<forward_into>);
  m.impl("thresholded_relu_backward", &detail::backward_kernel<backward_into>);
}

}  // namespace torch_ext::cpu
