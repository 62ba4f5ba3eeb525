// A tensor's bytes as one message field carries them (an OIP raw_input_contents or
// raw_output_contents entry), under a codec named by the message: "identity" is the tensor's own
// little-endian bytes, so a plain OIP client needs no codec at all; any other codec is the
// serialized EncodedTensor (wire_format.h). Decoding checks that what arrived is the tensor the
// message declares (dtype and shape), so a coded tensor is validated as strictly as a raw one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"

namespace seam::transport {

// The OIP parameter that names a tensor's codec; absent means identity.
inline constexpr char kCodecParameter[] = "seam_codec";

// Whether `codec` is identity without a lossless stage (the bytes are the tensor's own).
bool IsPlainCodec(std::string_view codec);

// INVALID_ARGUMENT for an unknown codec or one that cannot take the tensor (see codec.h).
Result<std::string> EncodePayload(const Tensor& tensor, std::string_view codec);

// A coded payload may decode to at most max(kFreeExpansionBytes, kMaxExpansion x its size).
inline constexpr uint64_t kMaxExpansion = 1024;
inline constexpr uint64_t kFreeExpansionBytes = uint64_t{64} << 20;

// `where` names the tensor in messages ("input 'x'"). A payload that could not hold the declared
// tensor, or that would expand beyond the limit above, is refused before anything is allocated.
// Every failure is INVALID_ARGUMENT: the sender's data is wrong (a corrupt frame included).
Result<Tensor> DecodePayload(std::string_view bytes, std::string_view codec, DType dtype,
                             const std::vector<int64_t>& shape, const std::string& where);

}  // namespace seam::transport
