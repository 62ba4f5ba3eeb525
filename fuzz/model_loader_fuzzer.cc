// libFuzzer target: arbitrary bytes as a model file, through everything `seam analyze` does.
//
// A model file is untrusted input (users download them), so no bytes may crash seam, leak, or
// trip a sanitizer: each stage either fails with a Status or hands a valid result to the next.
// The directory is "" so a model asking for external data is refused rather than reading files.
#include <cstddef>
#include <cstdint>
#include <string>

#include "graph/analysis.h"
#include "graph/cuts.h"
#include "graph/graph_view.h"
#include "graph/model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto model = seam::graph::LoadModelFromBytes(bytes, "<fuzz>", "");
  if (!model.ok()) return 0;
  auto view = seam::graph::GraphView::Build(model->proto);
  if (!view.ok()) return 0;
  // Results are ignored: the property checked is only that these return at all.
  (void)seam::graph::Analyze(*model, *view, {});
  (void)seam::graph::EnumerateCuts(*view);
  return 0;
}
