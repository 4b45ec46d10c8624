# Hints that let find_package(Torch) configure against a CUDA build of torch installed from
# pip, which expects a full CUDA toolkit:
#  - CUDA_TOOLKIT_ROOT_DIR: the toolkit with the real nvcc (/usr/local/cuda unless CUDA_HOME
#    says otherwise; an nvcc wrapper on PATH makes torch guess a wrong root);
#  - CUDA_nvrtc_LIBRARY and extra include directories: the pip "nvidia" packages beside torch
#    carry nvrtc and headers (cusparse.h, included by ATen's CUDA headers) the toolkit may lack.
# Each hint is only set when not given and when the file exists; a CPU build ignores them.
if(NOT DEFINED CUDA_TOOLKIT_ROOT_DIR)
  if(DEFINED ENV{CUDA_HOME} AND EXISTS "$ENV{CUDA_HOME}/bin/nvcc")
    set(CUDA_TOOLKIT_ROOT_DIR "$ENV{CUDA_HOME}")
  elseif(EXISTS "/usr/local/cuda/bin/nvcc")
    set(CUDA_TOOLKIT_ROOT_DIR "/usr/local/cuda")
  endif()
endif()

find_path(_torch_ext_torch_cmake_dir TorchConfig.cmake PATH_SUFFIXES Torch share/cmake/Torch)
set(TORCH_EXT_CUDA_EXTRA_INCLUDE_DIRS "")
if(_torch_ext_torch_cmake_dir)
  # <site-packages>/torch/share/cmake/Torch -> <site-packages>/nvidia/cu*/
  get_filename_component(_torch_ext_site "${_torch_ext_torch_cmake_dir}/../../../.." ABSOLUTE)
  file(GLOB _torch_ext_nvidia_roots LIST_DIRECTORIES true "${_torch_ext_site}/nvidia/cu[0-9]*")
  foreach(root IN LISTS _torch_ext_nvidia_roots)
    file(GLOB _torch_ext_nvrtc "${root}/lib/libnvrtc.so.[0-9]*")
    if(_torch_ext_nvrtc AND NOT DEFINED CUDA_nvrtc_LIBRARY)
      list(GET _torch_ext_nvrtc 0 _torch_ext_first_nvrtc)
      set(CUDA_nvrtc_LIBRARY "${_torch_ext_first_nvrtc}" CACHE FILEPATH "libnvrtc from pip")
    endif()
    if(EXISTS "${root}/include")
      list(APPEND TORCH_EXT_CUDA_EXTRA_INCLUDE_DIRS "${root}/include")
    endif()
  endforeach()
endif()
