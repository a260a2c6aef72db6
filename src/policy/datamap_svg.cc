#include "policy/datamap_svg.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>
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

struct ContextDeleter {
  void operator()(GVC_t* context) const { gvFreeContext(context); }
};

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

  std::unique_ptr<GVC_t, ContextDeleter> context(gvContext());
  if (context == nullptr) return Status(ErrorCode::kInternal, "Graphviz could not start");

  std::string text(dot);  // agmemread needs a NUL-terminated string
  Agraph_t* graph = agmemread(text.c_str());
  if (graph == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "not a valid DOT graph" + (errors.empty() ? "" : ": " + Trimmed(errors)));
  }
  if (gvLayout(context.get(), graph, "dot") != 0) {
    agclose(graph);
    return Status(ErrorCode::kInternal, "Graphviz could not lay out the graph" +
                                            (errors.empty() ? "" : ": " + Trimmed(errors)));
  }
  char* data = nullptr;
  unsigned int length = 0;
  int rendered = gvRenderData(context.get(), graph, "svg", &data, &length);
  std::string svg;
  if (rendered == 0 && data != nullptr) svg.assign(data, length);
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(context.get(), graph);
  agclose(graph);
  if (rendered != 0 || svg.empty()) {
    return Status(ErrorCode::kInternal,
                  "Graphviz could not render SVG" + (errors.empty() ? "" : ": " + Trimmed(errors)));
  }
  return svg;
}

}  // namespace custos::policy
