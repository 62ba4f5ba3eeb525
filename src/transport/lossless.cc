#include "transport/lossless.h"

#include <lz4.h>
#include <zstd.h>

#include <memory>

namespace seam::transport {
namespace {

// lz4 emits at most 255 bytes per input byte (a match-length byte of 255), so a block that claims
// more than that is corrupt; checking it before allocating keeps lz4 payloads from being bombs.
constexpr uint64_t kLz4MaxExpansion = 255;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread: creating one costs more than compressing a small tensor.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  return cctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  return dctx.get();
}

// Non-null even for empty buffers: the libraries may reject null pointers.
const char* NonNull(const char* p) {
  static const char kEmpty = 0;
  return p ? p : &kEmpty;
}

}  // namespace

Status Compress(LosslessStage stage, int zstd_level, std::string_view raw, std::string& out) {
  switch (stage) {
    case LosslessStage::kZstd: {
      ZSTD_CCtx* cctx = ThreadCCtx();
      if (cctx == nullptr) return Internal("zstd: cannot allocate a compression context");
      out.resize(ZSTD_compressBound(raw.size()));
      const size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), NonNull(raw.data()),
                                         raw.size(), zstd_level);
      if (ZSTD_isError(n)) return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
      out.resize(n);
      return Status::Ok();
    }
    case LosslessStage::kLz4: {
      if (raw.size() > LZ4_MAX_INPUT_SIZE) {
        return InvalidArgument("lz4 takes at most " + std::to_string(LZ4_MAX_INPUT_SIZE) +
                               " bytes, got " + std::to_string(raw.size()) + "; use zstd");
      }
      const int src_size = static_cast<int>(raw.size());
      out.resize(static_cast<size_t>(LZ4_compressBound(src_size)));
      const int n = LZ4_compress_default(NonNull(raw.data()), out.data(), src_size,
                                         static_cast<int>(out.size()));
      if (n <= 0) return Internal("lz4: compression failed");
      out.resize(static_cast<size_t>(n));
      return Status::Ok();
    }
    case LosslessStage::kNone:
      break;
  }
  return Internal("Compress called without a lossless stage");
}

Status CheckCompressed(LosslessStage stage, std::string_view compressed, uint64_t raw_size) {
  switch (stage) {
    case LosslessStage::kZstd: {
      const unsigned long long declared =
          ZSTD_getFrameContentSize(NonNull(compressed.data()), compressed.size());
      if (declared == ZSTD_CONTENTSIZE_ERROR) return DataLoss("zstd payload: not a zstd frame");
      if (declared != raw_size) {
        return DataLoss(
            "zstd payload: frame declares " +
            (declared == ZSTD_CONTENTSIZE_UNKNOWN ? std::string("no") : std::to_string(declared)) +
            " content bytes, the tensor needs " + std::to_string(raw_size));
      }
      const size_t frame = ZSTD_findFrameCompressedSize(compressed.data(), compressed.size());
      if (ZSTD_isError(frame) || frame != compressed.size()) {
        return DataLoss("zstd payload: the frame does not end where the payload does");
      }
      return Status::Ok();
    }
    case LosslessStage::kLz4:
      if (compressed.empty() || raw_size > LZ4_MAX_INPUT_SIZE ||
          compressed.size() > static_cast<size_t>(LZ4_compressBound(LZ4_MAX_INPUT_SIZE)) ||
          raw_size > kLz4MaxExpansion * compressed.size()) {
        return DataLoss("lz4 payload: " + std::to_string(compressed.size()) +
                        " bytes cannot hold the " + std::to_string(raw_size) +
                        " bytes the tensor needs");
      }
      return Status::Ok();
    case LosslessStage::kNone:
      break;
  }
  return Internal("CheckCompressed called without a lossless stage");
}

Status Decompress(LosslessStage stage, std::string_view compressed, std::byte* out,
                  size_t raw_size) {
  SEAM_RETURN_IF_ERROR(CheckCompressed(stage, compressed, raw_size));
  char* dst = reinterpret_cast<char*>(out);
  static char empty_dst = 0;
  if (dst == nullptr) dst = &empty_dst;  // raw_size == 0: nothing is written
  if (stage == LosslessStage::kZstd) {
    ZSTD_DCtx* dctx = ThreadDCtx();
    if (dctx == nullptr) return Internal("zstd: cannot allocate a decompression context");
    const size_t n = ZSTD_decompressDCtx(dctx, dst, raw_size, compressed.data(), compressed.size());
    if (ZSTD_isError(n)) return DataLoss(std::string("zstd payload: ") + ZSTD_getErrorName(n));
    if (n != raw_size) {
      return DataLoss("zstd payload: decompressed to " + std::to_string(n) + " bytes, expected " +
                      std::to_string(raw_size));
    }
    return Status::Ok();
  }
  const int n = LZ4_decompress_safe(compressed.data(), dst, static_cast<int>(compressed.size()),
                                    static_cast<int>(raw_size));
  if (n < 0 || static_cast<size_t>(n) != raw_size) {
    return DataLoss("lz4 payload: corrupt, or not " + std::to_string(raw_size) + " bytes");
  }
  return Status::Ok();
}

}  // namespace seam::transport
