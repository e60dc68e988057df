#include "flows/flow_svg.hpp"

#include <mutex>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "flows/errc.hpp"
#include "flows/flow_diagram.hpp"

// The two plugins a DOT-to-SVG rendering needs, linked in rather than found
// through Graphviz's plugin configuration file at run time.
extern "C" {
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;
}

namespace orca {

namespace {

std::mutex graphviz_lock;

// What Graphviz reported during the rendering under way (guarded by the
// lock): its error function is process-wide.
std::string graphviz_messages;

int collect_message(char* text) {
  if (text != nullptr && graphviz_messages.size() < 4096)
    graphviz_messages += text;
  return 0;
}

GVC_t* context() {
  static const lt_symlist_t builtins[] = {
    {"gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library},
    {"gvplugin_core_LTX_library", &gvplugin_core_LTX_library},
    {nullptr, nullptr},
  };
  static GVC_t* gvc = [] {
    agseterrf(collect_message);
    return gvContextPlugins(builtins, 0);
  }();
  return gvc;
}

caf::error graphviz_error(std::string what) {
  auto text = graphviz_messages;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  for (auto& c : text)
    if (c == '\n')
      c = ' ';
  if (!text.empty())
    what += ": " + text;
  return make_error(errc::invalid_argument, what);
}

} // namespace

caf::expected<std::string> render_svg(std::string_view dot) {
  std::lock_guard<std::mutex> guard{graphviz_lock};
  auto* gvc = context();
  graphviz_messages.clear();
  std::string text{dot};
  Agraph_t* graph = agmemread(text.c_str());
  if (graph == nullptr)
    return graphviz_error("graphviz could not read the picture");
  if (gvLayout(gvc, graph, "dot") != 0) {
    agclose(graph);
    return graphviz_error("graphviz could not lay out the picture");
  }
  char* data = nullptr;
  unsigned int length = 0;
  int rendered = gvRenderData(gvc, graph, "svg", &data, &length);
  std::string svg;
  if (rendered == 0 && data != nullptr)
    svg.assign(data, length);
  if (data != nullptr)
    gvFreeRenderData(data);
  gvFreeLayout(gvc, graph);
  agclose(graph);
  if (svg.empty())
    return graphviz_error("graphviz could not write the picture as svg");
  return svg;
}

caf::expected<std::string> render_svg(const flow& f) {
  return render_svg(render_diagram(f, diagram_format::dot));
}

} // namespace orca
