# Hints that let find_package(Torch) configure against a CUDA build of torch installed from
# pip, which expects a full CUDA toolkit and a GPU to look at. Included before
# find_package(Torch) by this project and by the installed TorchExtConfig.cmake:
#  - CUDA_TOOLKIT_ROOT_DIR: the toolkit with the real nvcc (/usr/local/cuda unless CUDA_HOME
#    says otherwise; an nvcc wrapper on PATH makes torch guess a wrong root);
#  - CUDA_nvrtc_LIBRARY and TORCH_EXT_PIP_CUDA_INCLUDE_DIRS: the pip "nvidia" packages beside
#    torch carry nvrtc and headers (cusparse.h, included by ATen's CUDA headers) that the
#    toolkit may lack; TORCH_EXT_PIP_CUDART_VERSION is their CUDA runtime's version (torch's).
#    Known layouts of <site-packages>/nvidia/ (docs/building.md):
#      CUDA 13 wheels (cu130 and later): one package, cu13/{include,lib}/
#      CUDA 12 wheels (cu126, cu128, cu129): one per library, cuda_runtime/include/,
#        cuda_nvrtc/lib/libnvrtc.so.12, cusparse/include/, cublas/include/, ...
#  - TORCH_CUDA_ARCH_LIST, for a CUDA build of torch (see below).
# Each hint is only set when not given and when the file exists; a CPU build ignores them.
if(NOT DEFINED CUDA_TOOLKIT_ROOT_DIR)
  if(DEFINED ENV{CUDA_HOME} AND EXISTS "$ENV{CUDA_HOME}/bin/nvcc")
    set(CUDA_TOOLKIT_ROOT_DIR "$ENV{CUDA_HOME}")
  elseif(EXISTS "/usr/local/cuda/bin/nvcc")
    set(CUDA_TOOLKIT_ROOT_DIR "/usr/local/cuda")
  endif()
endif()

find_path(_torch_ext_torch_cmake_dir TorchConfig.cmake PATH_SUFFIXES Torch share/cmake/Torch)
set(TORCH_EXT_PIP_CUDA_INCLUDE_DIRS "")
set(_torch_ext_torch_is_cuda OFF)
if(_torch_ext_torch_cmake_dir)
  # <torch>/share/cmake/Torch: <torch>/lib has torch's libraries, its parent the nvidia/ tree.
  get_filename_component(_torch_ext_torch_root "${_torch_ext_torch_cmake_dir}/../../.." ABSOLUTE)
  if(EXISTS "${_torch_ext_torch_root}/lib/libtorch_cuda.so")
    set(_torch_ext_torch_is_cuda ON)
  endif()
  get_filename_component(_torch_ext_site "${_torch_ext_torch_root}/.." ABSOLUTE)
  file(GLOB _torch_ext_nvidia_roots LIST_DIRECTORIES true "${_torch_ext_site}/nvidia/*")
  foreach(root IN LISTS _torch_ext_nvidia_roots)
    file(GLOB _torch_ext_nvrtc "${root}/lib/libnvrtc.so.[0-9]*")
    if(_torch_ext_nvrtc AND NOT DEFINED CUDA_nvrtc_LIBRARY)
      list(GET _torch_ext_nvrtc 0 _torch_ext_first_nvrtc)
      set(CUDA_nvrtc_LIBRARY "${_torch_ext_first_nvrtc}" CACHE FILEPATH "libnvrtc from pip")
    endif()
    if(EXISTS "${root}/include")
      list(APPEND TORCH_EXT_PIP_CUDA_INCLUDE_DIRS "${root}/include")
    endif()
    if(EXISTS "${root}/include/cuda_runtime_api.h")
      file(STRINGS "${root}/include/cuda_runtime_api.h" _torch_ext_cudart
           REGEX "^#define CUDART_VERSION +[0-9]+")
      string(REGEX MATCH "[0-9]+" TORCH_EXT_PIP_CUDART_VERSION "${_torch_ext_cudart}")
    endif()
  endforeach()
endif()

# TORCH_CUDA_ARCH_LIST for a CUDA build of torch, when neither the variable nor the
# environment sets it. Left empty, torch's CMake package detects the GPUs with a try_run whose
# test project asks for C++20 CUDA, which CMake < 3.26 cannot configure (find_package(Torch)
# stops on a machine without a GPU), and then falls back to a list with architectures CUDA 13
# no longer compiles for. So: the visible GPUs' architectures (nvidia-smi), else
# TORCH_EXT_DEFAULT_CUDA_ARCH_LIST, the data-centre and consumer architectures of PyTorch's
# CUDA 12.8+/13 wheels, with PTX for newer GPUs. TORCH_EXT_CUDA_ARCH_SOURCE says which.
set(TORCH_EXT_DEFAULT_CUDA_ARCH_LIST "7.5;8.0;8.6;9.0;10.0;12.0+PTX")
if(_torch_ext_torch_is_cuda)
  if(DEFINED TORCH_CUDA_ARCH_LIST)
    set(TORCH_EXT_CUDA_ARCH_SOURCE "TORCH_CUDA_ARCH_LIST")
  elseif(DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(TORCH_CUDA_ARCH_LIST "$ENV{TORCH_CUDA_ARCH_LIST}")
    set(TORCH_EXT_CUDA_ARCH_SOURCE "TORCH_CUDA_ARCH_LIST from the environment")
  else()
    set(_torch_ext_gpu_archs "")
    find_program(TORCH_EXT_NVIDIA_SMI nvidia-smi)
    if(TORCH_EXT_NVIDIA_SMI)
      execute_process(COMMAND "${TORCH_EXT_NVIDIA_SMI}" --query-gpu=compute_cap
                              --format=csv,noheader
                      OUTPUT_VARIABLE _torch_ext_smi RESULT_VARIABLE _torch_ext_smi_rc
                      ERROR_QUIET TIMEOUT 30)
      if(_torch_ext_smi_rc EQUAL 0)
        string(REGEX MATCHALL "[0-9]+\\.[0-9]+" _torch_ext_gpu_archs "${_torch_ext_smi}")
        list(REMOVE_DUPLICATES _torch_ext_gpu_archs)
      endif()
    endif()
    if(_torch_ext_gpu_archs)
      set(TORCH_CUDA_ARCH_LIST "${_torch_ext_gpu_archs}")
      set(TORCH_EXT_CUDA_ARCH_SOURCE "the visible GPUs")
    else()
      set(TORCH_CUDA_ARCH_LIST "${TORCH_EXT_DEFAULT_CUDA_ARCH_LIST}")
      set(TORCH_EXT_CUDA_ARCH_SOURCE "no GPU visible: the default list")
    endif()
  endif()
endif()
