# Decides whether to compile the CUDA kernels (TORCH_EXT_WITH_CUDA: ON, OFF or AUTO). Torch's
# own CMake package has already enabled the CUDA language for a CUDA build of torch and
# turned TORCH_CUDA_ARCH_LIST (chosen in TorchCudaHints.cmake) into -gencode flags.
set(TORCH_EXT_CUDA_ENABLED OFF)
set(_torch_is_cuda_build OFF)
if(TARGET torch_cuda OR CAFFE2_USE_CUDA)
  set(_torch_is_cuda_build ON)
endif()

# nvcc must have the CUDA major version torch was built with (PyTorch's own extension
# builder refuses a major mismatch and accepts a minor one, as does CUDA's compatibility).
set(_torch_ext_cuda_mismatch "")
if(CMAKE_CUDA_COMPILER AND TORCH_EXT_PIP_CUDART_VERSION)
  math(EXPR _torch_cuda_major "${TORCH_EXT_PIP_CUDART_VERSION} / 1000")
  math(EXPR _torch_cuda_minor "(${TORCH_EXT_PIP_CUDART_VERSION} % 1000) / 10")
  string(REGEX MATCH "^[0-9]+" _nvcc_major "${CMAKE_CUDA_COMPILER_VERSION}")
  if(NOT _nvcc_major EQUAL _torch_cuda_major)
    set(_torch_ext_cuda_mismatch
        "torch uses CUDA ${_torch_cuda_major}.${_torch_cuda_minor}, nvcc is ${CMAKE_CUDA_COMPILER_VERSION}")
  endif()
endif()

if(TORCH_EXT_WITH_CUDA STREQUAL "AUTO")
  if(_torch_is_cuda_build AND CMAKE_CUDA_COMPILER AND NOT _torch_ext_cuda_mismatch)
    set(TORCH_EXT_CUDA_ENABLED ON)
  elseif(_torch_ext_cuda_mismatch)
    message(WARNING "torch_ext: building WITHOUT the CUDA kernels: ${_torch_ext_cuda_mismatch}. "
                    "Install a CUDA toolkit of torch's major version (CUDA_HOME points at it).")
  endif()
elseif(TORCH_EXT_WITH_CUDA)
  if(NOT _torch_is_cuda_build OR NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "TORCH_EXT_WITH_CUDA=ON needs a CUDA build of torch and nvcc")
  endif()
  if(_torch_ext_cuda_mismatch)
    message(FATAL_ERROR "TORCH_EXT_WITH_CUDA=ON: ${_torch_ext_cuda_mismatch}")
  endif()
  set(TORCH_EXT_CUDA_ENABLED ON)
endif()
message(STATUS "torch_ext: CUDA kernels ${TORCH_EXT_CUDA_ENABLED}")

if(TORCH_EXT_CUDA_ENABLED)
  message(STATUS "torch_ext: CUDA architectures ${TORCH_CUDA_ARCH_LIST} (${TORCH_EXT_CUDA_ARCH_SOURCE})")
  # Torch asks for CUDA20 (its CMAKE_CXX_STANDARD), which CMake < 3.26 cannot spell for nvcc.
  if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  # The pip CUDA headers may be newer than nvcc's toolkit (torch 2.15: CUDA 13.2 headers,
  # nvcc 13.0), and a toolkit header shadowed by a newer one stops the build ("CUDA compiler
  # and CUDA toolkit headers are incompatible"). So only the headers the toolkit lacks
  # (cusparse.h and the like) come from pip, through a folder of links to them.
  set(TORCH_EXT_CUDA_EXTRA_INCLUDE_DIR "${CMAKE_CURRENT_BINARY_DIR}/pip-cuda-include")
  file(REMOVE_RECURSE "${TORCH_EXT_CUDA_EXTRA_INCLUDE_DIR}")
  file(MAKE_DIRECTORY "${TORCH_EXT_CUDA_EXTRA_INCLUDE_DIR}")
  foreach(dir IN LISTS TORCH_EXT_PIP_CUDA_INCLUDE_DIRS)
    file(GLOB _torch_ext_entries RELATIVE "${dir}" "${dir}/*")
    foreach(entry IN LISTS _torch_ext_entries)
      set(_in_toolkit OFF)
      foreach(toolkit_dir IN LISTS CUDAToolkit_INCLUDE_DIRS CUDA_TOOLKIT_ROOT_DIR)
        if(EXISTS "${toolkit_dir}/${entry}" OR EXISTS "${toolkit_dir}/include/${entry}")
          set(_in_toolkit ON)
        endif()
      endforeach()
      if(NOT _in_toolkit AND NOT EXISTS "${TORCH_EXT_CUDA_EXTRA_INCLUDE_DIR}/${entry}")
        file(CREATE_LINK "${dir}/${entry}" "${TORCH_EXT_CUDA_EXTRA_INCLUDE_DIR}/${entry}" SYMBOLIC)
      endif()
    endforeach()
  endforeach()
endif()
