// Drawing a DOT graph (such as the data map of datamap.h) as SVG with Graphviz, in-process.
//
// This is its own library (custos_datamap_svg), the only one that links libgvc, so the policy
// model and renderers stay free of Graphviz.
// Thread-safety: libgvc keeps global state (its error handler, the cgraph parser), so calls are
// serialised by an internal mutex; it is safe to call from several threads, one runs at a time.
#ifndef CUSTOS_POLICY_DATAMAP_SVG_H_
#define CUSTOS_POLICY_DATAMAP_SVG_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace custos::policy {

// Lays `dot` out with the "dot" engine and returns the SVG document (it starts with "<?xml").
// Errors: INVALID_ARGUMENT when `dot` is not a valid DOT graph (the message carries Graphviz's
// diagnostic); INTERNAL when Graphviz cannot create a context, lay out or render.
// PII: none expected (the data map holds policy text only); the SVG contains the labels of `dot`.
// The SVG is drawn to scale to its container (width 100%, the height from its viewBox).
Result<std::string> RenderDotToSvg(std::string_view dot);
// An SVG's root made to fill the width of what holds it: width="100%", no fixed height.
std::string ScaleToContainer(std::string svg);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_DATAMAP_SVG_H_
