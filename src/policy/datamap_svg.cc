#include "policy/datamap_svg.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <mutex>

namespace custos::policy {

namespace {

// Graphviz reports errors through a process-wide callback; it is only replaced while the mutex
// below is held, so the collected text belongs to the current call.
std::string* g_errors = nullptr;

int CollectError(char* message) {
  if (g_errors != nullptr && message != nullptr) *g_errors += message;
  return 0;
}

std::mutex& GraphvizMutex() {
  static std::mutex mutex;
  return mutex;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// One Graphviz context for the life of the process, used under the mutex. Graphviz 2.42's
// Pango plugin remembers a pointer to the last font name it measured, and that name lives in
// the context's font dictionary: freeing a context and laying out again with a new one reads
// freed memory (ASan finds it on the second SVG). A context that is never freed keeps the
// name alive; it stays reachable, so it is not a leak.
GVC_t* SharedContext() {
  static GVC_t* context = gvContext();
  return context;
}

// Restores Graphviz's error handler and level when the call ends, however it ends.
class ErrorCapture {
 public:
  explicit ErrorCapture(std::string* errors)
      : previous_handler_(agseterrf(CollectError)), previous_level_(agseterr(AGERR)) {
    g_errors = errors;
    agreseterrors();
  }
  ~ErrorCapture() {
    agseterrf(previous_handler_);
    agseterr(previous_level_);
    g_errors = nullptr;
  }
  ErrorCapture(const ErrorCapture&) = delete;
  ErrorCapture& operator=(const ErrorCapture&) = delete;

 private:
  agusererrf previous_handler_;
  agerrlevel_t previous_level_;
};

}  // namespace

Result<std::string> RenderDotToSvg(std::string_view dot) {
  std::lock_guard<std::mutex> lock(GraphvizMutex());
  std::string errors;
  ErrorCapture capture(&errors);

  GVC_t* context = SharedContext();
  if (context == nullptr) return Status(ErrorCode::kInternal, "Graphviz could not start");

  std::string text(dot);  // agmemread needs a NUL-terminated string
  Agraph_t* graph = agmemread(text.c_str());
  if (graph == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "not a valid DOT graph" + (errors.empty() ? "" : ": " + Trimmed(errors)));
  }
  if (gvLayout(context, graph, "dot") != 0) {
    agclose(graph);
    return Status(ErrorCode::kInternal, "Graphviz could not lay out the graph" +
                                            (errors.empty() ? "" : ": " + Trimmed(errors)));
  }
  char* data = nullptr;
  unsigned int length = 0;
  int rendered = gvRenderData(context, graph, "svg", &data, &length);
  std::string svg;
  if (rendered == 0 && data != nullptr) svg.assign(data, length);
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(context, graph);
  agclose(graph);
  if (rendered != 0 || svg.empty()) {
    return Status(ErrorCode::kInternal,
                  "Graphviz could not render SVG" + (errors.empty() ? "" : ": " + Trimmed(errors)));
  }
  return ScaleToContainer(std::move(svg));
}

std::string ScaleToContainer(std::string svg) {
  // <svg width="1352pt" height="795pt" viewBox="...">: the viewBox keeps the proportions, so
  // width 100% and no height make it as wide as whatever holds it, never wider.
  const size_t root = svg.find("<svg ");
  if (root == std::string::npos) return svg;
  const size_t end = svg.find('>', root);
  for (const char* name : {" width=\"", " height=\""}) {
    size_t at = svg.find(name, root);
    if (at == std::string::npos || at > end) continue;
    size_t close = svg.find('"', at + std::string_view(name).size());
    if (close == std::string::npos || close > end) continue;
    const bool width = name[1] == 'w';
    svg.replace(at, close + 1 - at, width ? " width=\"100%\"" : "");
  }
  return svg;
}

}  // namespace custos::policy
