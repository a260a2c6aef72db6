// How the notice is laid out: Mustache templates (kainjow/mustache) over the document model.
// The words and their escaping stay in C++ (notice_markdown.cc, notice_html.cc); the templates
// place the blocks and add what an organisation brands or translates.
#include <filesystem>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "policy/notice.h"
#include "policy/notice_internal.h"
#include "policy/yaml_tree.h"

namespace custos::policy {

namespace {

namespace mstch = kainjow::mustache;
using Templates = std::map<std::string, std::string>;

std::string_view Extension(NoticeFormat format) {
  return format == NoticeFormat::kHtml ? ".html" : ".md";
}

// The template `name` ("page", "block") for `format`: the policy's own, else the default.
std::string Source(const Templates& own_templates, std::string_view name, NoticeFormat format) {
  std::string key = std::string(name) + std::string(Extension(format));
  auto own = own_templates.find(key);
  if (own != own_templates.end()) return own->second;
  return std::string(DefaultNoticeTemplate(key));
}

// One block as template data. Every block names all four kinds (three of them false) so a
// lookup never falls through to an enclosing block's section.
mstch::data BlockData(std::string_view kind, mstch::data value) {
  mstch::data block;
  for (const char* k : {"heading", "paragraph", "list", "section"}) block.set(k, false);
  block.set(std::string(kind), value);
  return block;
}

using notice_internal::Block;
using notice_internal::BlockKind;
using notice_internal::Document;
using notice_internal::Inline;

std::string InlineText(const Inline& line, NoticeFormat format) {
  return format == NoticeFormat::kHtml ? notice_internal::InlineToHtml(line)
                                       : notice_internal::InlineToMarkdown(line);
}

// The flat block list as a tree: a section's blocks are its content.
mstch::data Content(const std::vector<Block>& blocks, size_t& at, NoticeFormat format) {
  mstch::data content{mstch::data::type::list};
  while (at < blocks.size()) {
    const Block& block = blocks[at++];
    switch (block.kind) {
      case BlockKind::kHeading: {
        mstch::data heading;
        heading.set("level", std::to_string(block.level));
        heading.set("hashes", std::string(static_cast<size_t>(block.level), '#'));
        heading.set("id", block.id.empty() ? mstch::data(false) : mstch::data(block.id));
        heading.set("text", InlineText(block.text, format));
        content.push_back(BlockData("heading", heading));
        break;
      }
      case BlockKind::kParagraph: {
        content.push_back(
            BlockData("paragraph", mstch::data("text", InlineText(block.text, format))));
        break;
      }
      case BlockKind::kList: {
        mstch::data items{mstch::data::type::list};
        for (const Inline& item : block.items) {
          items.push_back(mstch::data("text", InlineText(item, format)));
        }
        content.push_back(BlockData("list", mstch::data("items", items)));
        break;
      }
      case BlockKind::kSectionBegin: {
        mstch::data section;
        section.set("id", block.id);
        section.set("content", Content(blocks, at, format));
        content.push_back(BlockData("section", section));
        break;
      }
      case BlockKind::kSectionEnd: return content;
    }
  }
  return content;
}

// Every template of `format` the policy brings, and the defaults it does not replace, as
// partials ({{>block}}, {{>header}}, ...). Each inclusion counts against `budget`: a template
// that includes itself stops there (and `budget` goes negative) instead of recursing for ever.
void AddPartials(mstch::data& data, const Templates& own_templates, NoticeFormat format,
                 std::shared_ptr<long> budget) {
  std::string ext(Extension(format));
  auto add = [&](const std::string& name, std::string source) {
    data.set(name, mstch::partial([budget, source = std::move(source)]() {
               return --*budget < 0 ? std::string() : source;
             }));
  };
  for (const auto& [key, source] : own_templates) {
    if (key.size() <= ext.size() || key.compare(key.size() - ext.size(), ext.size(), ext) != 0) {
      continue;
    }
    add(key.substr(0, key.size() - ext.size()), source);
  }
  if (!data.get("block")) add("block", Source(own_templates, "block", format));
}

// How many inclusions a notice of `blocks` blocks may need: one per block, and a few per page.
std::shared_ptr<long> Budget(const Document& doc) {
  return std::make_shared<long>(static_cast<long>(doc.blocks().size()) * 2 + 64);
}

// Blank lines made one (Markdown) or removed (HTML), and one newline at the end.
std::string Tidy(const std::string& text, NoticeFormat format) {
  size_t keep = format == NoticeFormat::kHtml ? 1 : 2;
  std::string out;
  size_t newlines = 0;
  for (char c : text) {
    if (c == '\n') {
      if (out.empty() || ++newlines > keep) continue;
    } else {
      newlines = 0;
    }
    out += c;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out + "\n";
}

std::string Escape(NoticeFormat format, const std::string& text) {
  return format == NoticeFormat::kHtml ? EscapeHtml(text) : EscapeMarkdown(text);
}

// `page` rendered over `data`; "" when the template cannot be rendered.
std::string Render(const std::string& page, const mstch::data& data, NoticeFormat format) {
  mstch::mustache tmpl(page);
  tmpl.set_custom_escape([format](const std::string& text) { return Escape(format, text); });
  if (!tmpl.is_valid()) return "";
  std::string out = tmpl.render(data);
  if (!tmpl.is_valid()) return "";
  return Tidy(out, format);
}

// The notice laid out by `own_templates` and the defaults, over the page's `fields`.
std::string Lay(const notice_internal::Document& doc, NoticeFormat format,
                const Templates& own_templates, const mstch::data& fields, std::string_view page) {
  mstch::data data = fields;
  size_t at = 0;
  data.set("content", Content(doc.blocks(), at, format));
  auto budget = Budget(doc);
  AddPartials(data, own_templates, format, budget);
  std::string source = page.empty() ? Source(own_templates, "page", format) : std::string(page);
  std::string out = Render(source, data, format);
  if ((!out.empty() && *budget >= 0) || own_templates.empty()) return out;
  // The organisation's templates passed the loader's check but could not render (a template
  // that includes itself, say): the default layout says the same thing.
  return Lay(doc, format, Templates{}, fields, page);
}

}  // namespace

namespace notice_internal {

std::string WriteNotice(const Document& doc, const Policy& policy, const NoticeTemplates& templates,
                        NoticeFormat format, std::string_view title, std::string_view organisation,
                        std::string_view date) {
  mstch::data data;
  data.set("title", CollapseSpace(title));
  data.set("organisation", CollapseSpace(organisation));
  data.set("version", policy.notice.version);
  data.set("date", std::string(date));
  data.set("url", policy.notice.url.empty() ? mstch::data(false) : mstch::data(policy.notice.url));
  return Lay(doc, format, templates.layouts, data, "");
}

std::string WriteBlocksHtml(const Document& doc, const NoticeTemplates& templates) {
  return Lay(doc, NoticeFormat::kHtml, templates.layouts, mstch::data{},
             "{{#content}}\n{{>block}}\n{{/content}}\n");
}

}  // namespace notice_internal

namespace {

// words.yaml: a map from English phrases to the organisation's.
Status ReadWords(const std::string& path, std::map<std::string, std::string>& words) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return Status(ErrorCode::kIo, "cannot read " + path);
  YamlNode root;
  Diagnostics diagnostics;
  if (!ParseYaml(text.str(), root, diagnostics)) {
    return Status(ErrorCode::kInvalidArgument,
                  diagnostics.empty() ? path + " is not YAML" : diagnostics.front().Format(path));
  }
  if (root.kind == YamlNode::Kind::kNull) return Status::Ok();
  if (!root.IsMap()) {
    return Status(ErrorCode::kInvalidArgument,
                  path + ":" + std::to_string(root.loc.line) +
                      ": the words must be a map from the notice's English phrases "
                      "(templates/notice/phrases.txt) to yours, e.g. \"Your rights\": \"Eich "
                      "hawliau\"");
  }
  for (const auto& entry : root.entries) {
    if (!entry.value.IsScalar() || entry.key.scalar.empty()) {
      return Status(ErrorCode::kInvalidArgument, path + ":" + std::to_string(entry.key.loc.line) +
                                                     ": each phrase needs its translation as text");
    }
    words[entry.key.scalar] = entry.value.scalar;
  }
  return Status::Ok();
}

thread_local const std::map<std::string, std::string>* words_in_force = nullptr;

}  // namespace

namespace notice_internal {

std::string Tr(std::string_view english) {
  if (words_in_force != nullptr && !words_in_force->empty()) {
    auto found = words_in_force->find(std::string(english));
    if (found != words_in_force->end()) return found->second;
  }
  return std::string(english);
}

WordsInForce::WordsInForce(const std::map<std::string, std::string>* words)
    : previous_(words_in_force) {
  words_in_force = words;
}

WordsInForce::~WordsInForce() { words_in_force = previous_; }

}  // namespace notice_internal

bool IsNoticeTemplateName(std::string_view name) {
  static constexpr std::string_view kFields[] = {
      "title",  "organisation", "version", "date",  "url",       "content", "heading", "level",
      "hashes", "id",           "text",    "items", "paragraph", "list",    "section"};
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  for (std::string_view field : kFields) {
    if (name == field) return false;
  }
  return true;
}

std::string NoticeTemplateError(std::string_view source) {
  mstch::mustache tmpl{std::string(source)};
  return tmpl.is_valid() ? std::string() : tmpl.error_message();
}

Result<NoticeTemplates> LoadNoticeTemplates(const std::string& dir) {
  namespace fs = std::filesystem;
  constexpr std::uintmax_t kMaxTemplateBytes = 1024 * 1024;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status(ErrorCode::kIo, "cannot read the notice templates: " + dir + " is not a folder");
  }
  NoticeTemplates templates;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string file = entry.path().filename().string();
    std::string where = (fs::path(dir) / file).string();
    if (file == "phrases.txt") continue;  // the list of phrases a copy of the defaults brings
    if (file == "words.yaml") {
      RETURN_IF_ERROR(ReadWords(entry.path().string(), templates.words));
      continue;
    }
    std::string name;
    for (std::string_view ext : {".html.mustache", ".md.mustache"}) {
      if (file.size() > ext.size() &&
          file.compare(file.size() - ext.size(), ext.size(), ext) == 0) {
        name = file.substr(0, file.size() - ext.size());
      }
    }
    if (name.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    where +
                        " is not a notice template: name templates NAME.html.mustache or "
                        "NAME.md.mustache, and keep other files elsewhere");
    }
    if (!IsNoticeTemplateName(name)) {
      return Status(ErrorCode::kInvalidArgument,
                    where + ": '" + name + "' cannot name a template (it is a field of the " +
                        "notice, or not letters, digits, '-' and '_'); rename the file");
    }
    if (!entry.is_regular_file(ec) || entry.file_size(ec) > kMaxTemplateBytes) {
      return Status(ErrorCode::kInvalidArgument, where + " is not a file of at most 1 MiB");
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return Status(ErrorCode::kIo, "cannot read " + where);
    std::string error = NoticeTemplateError(text.str());
    if (!error.empty()) {
      return Status(ErrorCode::kInvalidArgument, where + " is not a Mustache template: " + error +
                                                     "; fix it, or remove it to use the default");
    }
    // "page.html.mustache" -> "page.html"
    templates.layouts[file.substr(0, file.size() - std::string_view(".mustache").size())] =
        text.str();
  }
  if (ec) return Status(ErrorCode::kIo, "cannot read the notice templates in " + dir);
  return templates;
}

}  // namespace custos::policy
