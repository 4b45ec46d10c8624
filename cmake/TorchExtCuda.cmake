# Decides whether to compile the CUDA kernels (TORCH_EXT_WITH_CUDA: ON, OFF or AUTO). Torch's
# own CMake package has already enabled the CUDA language for a CUDA build of torch and
# turned TORCH_CUDA_ARCH_LIST (e.g. "9.0" or "8.0;9.0+PTX") into -gencode flags.
set(TORCH_EXT_CUDA_ENABLED OFF)
set(_torch_is_cuda_build OFF)
if(TARGET torch_cuda OR CAFFE2_USE_CUDA)
  set(_torch_is_cuda_build ON)
endif()

if(TORCH_EXT_WITH_CUDA STREQUAL "AUTO")
  if(_torch_is_cuda_build AND CMAKE_CUDA_COMPILER)
    set(TORCH_EXT_CUDA_ENABLED ON)
  endif()
elseif(TORCH_EXT_WITH_CUDA)
  if(NOT _torch_is_cuda_build OR NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "TORCH_EXT_WITH_CUDA=ON needs a CUDA build of torch and nvcc")
  endif()
  set(TORCH_EXT_CUDA_ENABLED ON)
endif()
message(STATUS "torch_ext: CUDA kernels ${TORCH_EXT_CUDA_ENABLED}")

# Torch asks for CUDA20 (its CMAKE_CXX_STANDARD), which CMake < 3.26 cannot spell for nvcc.
if(TORCH_EXT_CUDA_ENABLED AND NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
