// Determinism controls of libtorch that tch does not expose. Compiled by worker/build.rs against
// the headers of the libtorch that torch-sys links, and called once, before the first tensor
// operation (see worker/src/engines/determinism.rs).
#include <ATen/Context.h>

#include <cstring>
#include <exception>

namespace {
void copy_error(const char* what, char* error, size_t error_len) {
  if (error != nullptr && error_len > 0) {
    std::strncpy(error, what, error_len - 1);
    error[error_len - 1] = '\0';
  }
}
}  // namespace

extern "C" {

// libtorch's determinism-related switches; each field 0 or 1.
struct ReplicaDeterminism {
  int benchmark_cudnn;
  int deterministic_cudnn;
  int deterministic_algorithms;
  // Fill fresh allocations with NaN (PyTorch does this by default while deterministic
  // algorithms are on, to expose reads of uninitialised memory).
  int fill_uninitialized_memory;
  int allow_tf32_cublas;
  int allow_tf32_cudnn;
  // 1 when float32 matmuls run in full IEEE precision ("highest").
  int float32_matmul_ieee;
};

// Sets every switch as `wanted` says. Returns 0, or 1 with a message in `error`.
int replica_apply_determinism(const ReplicaDeterminism* wanted, char* error, size_t error_len) {
  try {
    auto& ctx = at::globalContext();
    ctx.setBenchmarkCuDNN(wanted->benchmark_cudnn != 0);
    ctx.setDeterministicCuDNN(wanted->deterministic_cudnn != 0);
    ctx.setDeterministicAlgorithms(wanted->deterministic_algorithms != 0, /*warn_only=*/false);
    ctx.setDeterministicFillUninitializedMemory(wanted->fill_uninitialized_memory != 0);
    ctx.setAllowTF32CuBLAS(wanted->allow_tf32_cublas != 0);
    ctx.setAllowTF32CuDNN(wanted->allow_tf32_cudnn != 0);
    ctx.setFloat32MatmulPrecision(wanted->float32_matmul_ieee != 0 ? "highest" : "high");
    return 0;
  } catch (const std::exception& e) {
    copy_error(e.what(), error, error_len);
    return 1;
  }
}

void replica_determinism_state(ReplicaDeterminism* out) {
  auto& ctx = at::globalContext();
  out->benchmark_cudnn = ctx.benchmarkCuDNN() ? 1 : 0;
  out->deterministic_cudnn = ctx.deterministicCuDNN() ? 1 : 0;
  out->deterministic_algorithms = ctx.deterministicAlgorithms() ? 1 : 0;
  out->fill_uninitialized_memory = ctx.deterministicFillUninitializedMemory() ? 1 : 0;
  out->allow_tf32_cublas = ctx.allowTF32CuBLAS() ? 1 : 0;
  out->allow_tf32_cudnn = ctx.allowTF32CuDNN() ? 1 : 0;
  out->float32_matmul_ieee = ctx.float32MatmulPrecision() == at::Float32MatmulPrecision::HIGHEST ? 1 : 0;
}
}
