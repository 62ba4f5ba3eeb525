// The lossless stages (zstd, lz4) that may follow a codec: thin adapters over the libraries that
// own buffer sizing, context reuse and the checks that keep a lying payload from doing harm.
//
// Sizes are bytes. Thread-safe: each thread reuses its own zstd contexts (thread_local), so
// concurrent calls share nothing. A context keeps the memory of the highest level it has run
// (a few MiB at low levels, tens of MiB at the highest) until its thread exits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "transport/codec_spec.h"

namespace seam::transport {

// Compresses `raw` into `out` (replacing its contents). `stage` must not be kNone.
// INVALID_ARGUMENT when `raw` is larger than the stage can take in one block (lz4: ~2 GiB).
Status Compress(LosslessStage stage, int zstd_level, std::string_view raw, std::string& out);

// Checks, without decompressing, that `compressed` can hold exactly `raw_size` bytes: for zstd,
// one frame that declares that content size and ends exactly at the end of the payload; for lz4
// (whose blocks do not carry their size), that the size is within lz4's limits, including its
// maximum expansion of 255x. DATA_LOSS otherwise.
Status CheckCompressed(LosslessStage stage, std::string_view compressed, uint64_t raw_size);

// Decompresses into out[0, raw_size), which the caller has allocated; DATA_LOSS unless the payload
// is well-formed and decompresses to exactly raw_size bytes. Never writes past out + raw_size.
Status Decompress(LosslessStage stage, std::string_view compressed, std::byte* out,
                  size_t raw_size);

}  // namespace seam::transport
