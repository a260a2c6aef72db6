// The notice is laid out by Mustache templates (templates/notice/): an organisation brands or
// translates the page by copying a template, not by editing C++, and HTML and Markdown come
// from the same model. Its own templates cannot unescape the policy's words, cannot hang the
// renderer, and a broken one is refused with the file and the fix.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "common/period.h"
#include "policy/loader.h"
#include "policy/notice.h"

namespace custos::policy {
namespace {

namespace fs = std::filesystem;

const std::string kTemplates = std::string(CUSTOS_SOURCE_DIR) + "/templates/notice";

Policy Seed(const std::string& name) {
  auto loaded = LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/" + name + ".yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return loaded.ok() ? *loaded : Policy{};
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A folder of templates for one test, removed after it.
class TemplateFolder {
 public:
  TemplateFolder() {
    dir_ =
        fs::temp_directory_path() /
        ("custos-templates-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TemplateFolder() { fs::remove_all(dir_); }
  void Write(const std::string& file, const std::string& text) {
    std::ofstream(dir_ / file, std::ios::binary) << text;
  }
  std::string path() const { return dir_.string(); }

 private:
  fs::path dir_;
};

// The built-in templates are the repository's files, so copying templates/notice/ is the way
// to start, and a copy left unchanged lays the notice out exactly as the defaults do.
TEST(NoticeTemplates, TheBuiltInTemplatesAreTheRepositorysFiles) {
  for (const char* name : {"page.html", "block.html", "page.md", "block.md"}) {
    EXPECT_EQ(DefaultNoticeTemplate(name), ReadAll(kTemplates + "/" + name + ".mustache")) << name;
  }
  EXPECT_EQ(DefaultNoticeTemplate("header.html"), "");
  auto copy = LoadNoticeTemplates(kTemplates);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->layouts.size(), 4u);
  Policy policy = Seed("wig");
  for (NoticeFormat format : {NoticeFormat::kHtml, NoticeFormat::kMarkdown}) {
    EXPECT_EQ(RenderNotice(policy, format, *copy), RenderNotice(policy, format));
  }
}

// One model, two formats: every heading, paragraph and list item of the Markdown is in the HTML.
TEST(NoticeTemplates, HtmlAndMarkdownLayOutTheSameBlocks) {
  for (const char* seed : {"protectuk", "wig", "progressteaching"}) {
    Policy policy = Seed(seed);
    std::string md = RenderNotice(policy, NoticeFormat::kMarkdown);
    std::string html = RenderNotice(policy, NoticeFormat::kHtml);
    EXPECT_EQ(Count(md, "\n## "), Count(html, "<h2"));
    EXPECT_EQ(Count(md, "\n### "), Count(html, "<h3"));
    EXPECT_EQ(Count(md, "\n- "), Count(html, "<li>")) << seed;
    EXPECT_EQ(md.rfind("# ", 0), 0u);
    EXPECT_EQ(Count(html, "<section"), Count(html, "</section>"));
    // One newline at the end, never a run of blank lines.
    EXPECT_EQ(md.substr(md.size() - 2), ".\n") << seed;
    EXPECT_EQ(md.find("\n\n\n"), std::string::npos) << seed;
    EXPECT_EQ(html.find("\n\n"), std::string::npos) << seed;
  }
}

// ProtectUK brands its page: a header partial with the controller's name and a Welsh-language
// frame around the same promises (seed 003: "The Commissioner of the Metropolitan Police Service
// is the controller"; "We do not sell, trade or rent your information to other parties.").
TEST(NoticeTemplates, AnOrganisationBrandsAndTranslatesThePageByCopyingATemplate) {
  TemplateFolder folder;
  std::string page = DefaultNoticeTemplate("page.html").data();
  page.replace(page.find("<html lang=\"en-GB\">"), 19, "<html lang=\"cy\">");
  page.replace(page.find("<main>"), 6, "{{>header}}\n<main>");
  folder.Write("page.html.mustache", page);
  folder.Write("header.html.mustache",
               "<header class=\"brand\"><p>Hysbysiad preifatrwydd: {{organisation}}, "
               "fersiwn {{version}} ({{date}})</p></header>\n");
  auto templates = LoadNoticeTemplates(folder.path());
  ASSERT_TRUE(templates.ok()) << templates.status().ToString();
  std::string html = RenderNotice(Seed("protectuk"), NoticeFormat::kHtml, *templates);
  EXPECT_NE(html.find("<html lang=\"cy\">"), std::string::npos);
  EXPECT_NE(html.find("<header class=\"brand\"><p>Hysbysiad preifatrwydd: The Commissioner of "
                      "the Metropolitan Police Service, fersiwn 1 (15/09/2021)</p></header>\n"
                      "<main>"),
            std::string::npos)
      << html.substr(0, 2000);
  EXPECT_NE(html.find("We do not sell, trade or rent your information to other parties."),
            std::string::npos);
  // The Markdown keeps the default layout: a template replaces only its own format.
  EXPECT_EQ(RenderNotice(Seed("protectuk"), NoticeFormat::kMarkdown, *templates),
            RenderNotice(Seed("protectuk"), NoticeFormat::kMarkdown));
}

// A block template changes how every block is laid out, in the privacy centre's fragment too.
TEST(NoticeTemplates, ABlockTemplateLaysOutEveryBlockAndTheCentresFragment) {
  TemplateFolder folder;
  folder.Write("block.md.mustache",
               "{{#heading}}\n{{{hashes}}} {{{text}}}\n\n{{/heading}}\n"
               "{{#paragraph}}\n> {{{text}}}\n\n{{/paragraph}}\n"
               "{{#list}}\n{{#items}}\n* {{{text}}}\n{{/items}}\n\n{{/list}}\n"
               "{{#section}}\n{{#content}}\n{{>block}}\n{{/content}}\n{{/section}}\n");
  folder.Write("block.html.mustache",
               "{{#heading}}<h{{level}} class=\"brand\">{{{text}}}</h{{level}}>{{/heading}}"
               "{{#paragraph}}<p class=\"brand\">{{{text}}}</p>{{/paragraph}}"
               "{{#list}}<ol>{{#items}}<li>{{{text}}}</li>{{/items}}</ol>{{/list}}"
               "{{#section}}<div>{{#content}}{{>block}}{{/content}}</div>{{/section}}\n");
  auto templates = LoadNoticeTemplates(folder.path());
  ASSERT_TRUE(templates.ok()) << templates.status().ToString();
  Policy policy = Seed("wig");
  std::string plain = RenderNotice(policy, NoticeFormat::kMarkdown);
  std::string md = RenderNotice(policy, NoticeFormat::kMarkdown, *templates);
  EXPECT_EQ(Count(md, "\n* "), Count(plain, "\n- "));
  EXPECT_EQ(Count(md, "\n- "), 0u);
  EXPECT_NE(md.find("\n> "), std::string::npos);
  NoticeFragment fragment = RenderNoticeFragment(policy, *templates);
  EXPECT_EQ(fragment.html.find("<ul>"), std::string::npos);
  EXPECT_NE(fragment.html.find("<h2 class=\"brand\">"), std::string::npos);
  EXPECT_EQ(Count(fragment.html, "<div>"), Count(fragment.html, "</div>"));
}

// An organisation's template cannot undo the escaping of the policy's words: {{title}} is
// escaped for the format, and the blocks come already escaped.
TEST(NoticeTemplates, OwnTemplatesStillEscapeThePolicysWords) {
  Policy policy = Seed("wig");
  policy.notice.title = "Notice <script>alert(1)</script> *now*";
  TemplateFolder folder;
  folder.Write("page.html.mustache", "<title>{{title}}</title>{{#content}}{{>block}}{{/content}}");
  folder.Write("page.md.mustache", "Title: {{title}}\n{{#content}}{{>block}}{{/content}}");
  auto templates = LoadNoticeTemplates(folder.path());
  ASSERT_TRUE(templates.ok()) << templates.status().ToString();
  std::string html = RenderNotice(policy, NoticeFormat::kHtml, *templates);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("<title>Notice &lt;script&gt;alert(1)&lt;/script&gt; *now*</title>"),
            std::string::npos);
  std::string md = RenderNotice(policy, NoticeFormat::kMarkdown, *templates);
  EXPECT_NE(md.find("Title: Notice \\<script\\>alert(1)\\</script\\> \\*now\\*"), std::string::npos)
      << md.substr(0, 300);
}

// A template that includes itself would recurse for ever: the notice is laid out by the
// defaults instead, and says the same thing.
TEST(NoticeTemplates, ATemplateThatIncludesItselfFallsBackToTheDefaults) {
  TemplateFolder folder;
  folder.Write("page.html.mustache", "{{>header}}{{#content}}{{>block}}{{/content}}");
  folder.Write("header.html.mustache", "<p>brand</p>{{>header}}");
  auto templates = LoadNoticeTemplates(folder.path());
  ASSERT_TRUE(templates.ok()) << templates.status().ToString();
  Policy policy = Seed("protectuk");
  EXPECT_EQ(RenderNotice(policy, NoticeFormat::kHtml, *templates),
            RenderNotice(policy, NoticeFormat::kHtml));
}

TEST(NoticeTemplates, ABrokenTemplateIsRefusedNamingTheFileAndTheFix) {
  TemplateFolder folder;
  folder.Write("page.html.mustache", "<main>{{#content}}{{>block}}</main>");
  auto loaded = LoadNoticeTemplates(folder.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kInvalidArgument);
  const std::string& message = loaded.status().message();
  EXPECT_NE(message.find(folder.path() + "/page.html.mustache is not a Mustache template: "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("content"), std::string::npos) << message;
  EXPECT_NE(message.find("fix it, or remove it to use the default"), std::string::npos);
}

TEST(NoticeTemplates, NamesThatAreNotTemplatesAreRefused) {
  {
    TemplateFolder folder;
    folder.Write("title.html.mustache", "x");  // would hide the page's title
    auto loaded = LoadNoticeTemplates(folder.path());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.status().message().find("'title' cannot name a template"), std::string::npos)
        << loaded.status().message();
  }
  {
    TemplateFolder folder;
    folder.Write("notes.txt", "x");
    auto loaded = LoadNoticeTemplates(folder.path());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.status().message().find("notes.txt is not a notice template"),
              std::string::npos);
  }
  auto missing = LoadNoticeTemplates("/nonexistent/templates");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kIo);
  EXPECT_FALSE(IsNoticeTemplateName("../page"));
  EXPECT_TRUE(IsNoticeTemplateName("footer_cy-2"));
}

// The privacy centre prints its own contents list from the fragment: the notice's "Contents"
// heading is not an entry of it.
TEST(NoticeTemplates, TheCentresContentsDoNotListContents) {
  NoticeFragment fragment = RenderNoticeFragment(Seed("protectuk"));
  ASSERT_FALSE(fragment.contents.empty());
  for (const auto& entry : fragment.contents) EXPECT_NE(entry.id, "contents") << entry.text;
  EXPECT_NE(fragment.html.find("id=\"contents\""), std::string::npos);
}

// The CLI: `custos notice FILE --templates DIR`, and one clear line for a broken folder.
TEST(NoticeTemplates, TheNoticeCommandTakesATemplateFolder) {
  TemplateFolder folder;
  folder.Write("page.md.mustache", "Brand line\n\n{{#content}}\n{{>block}}\n{{/content}}\n");
  std::string policy = std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml";
  std::ostringstream out, err;
  int code = cli::RunCli({"notice", policy, "--templates", folder.path()}, out, err);
  EXPECT_EQ(code, cli::kExitOk) << err.str();
  EXPECT_EQ(out.str().rfind("Brand line\n\n# The Whitehall & Industry Group privacy policy\n", 0),
            0u)
      << out.str().substr(0, 200);
  folder.Write("block.md.mustache", "{{#list}}");
  std::ostringstream out2, err2;
  code = cli::RunCli({"notice", policy, "--templates", folder.path()}, out2, err2);
  EXPECT_NE(code, cli::kExitOk);
  EXPECT_EQ(out2.str(), "");
  EXPECT_EQ(Count(err2.str(), "\n"), 1u) << err2.str();
  EXPECT_EQ(err2.str().rfind("custos notice: " + folder.path() + "/block.md.mustache", 0), 0u)
      << err2.str();
}

// Translating: a words.yaml beside the templates gives the organisation's words for the notice's
// English phrases (templates/notice/phrases.txt); the policy's own words stay as written.
TEST(NoticeTemplates, AWordsFileTranslatesTheNoticesPhrases) {
  TemplateFolder folder;
  folder.Write("words.yaml",
               "# Cymraeg (a few phrases)\n"
               "\"In short\": \"Yn fyr\"\n"
               "\"Your rights\": \"Eich hawliau\"\n"
               "\"We collect: \": \"Rydym yn casglu: \"\n"
               "\"and\": \"a\"\n"
               "\"Right of access\": \"Hawl mynediad\"\n"
               "\"one month\": \"un mis\"\n");
  auto templates = LoadNoticeTemplates(folder.path());
  ASSERT_TRUE(templates.ok()) << templates.status().ToString();
  EXPECT_EQ(templates->words.size(), 6u);
  EXPECT_TRUE(templates->layouts.empty());
  Policy policy = Seed("protectuk");
  std::string md = RenderNotice(policy, NoticeFormat::kMarkdown, *templates);
  EXPECT_NE(md.find("## Yn fyr\n"), std::string::npos);
  EXPECT_NE(md.find("### Eich hawliau\n"), std::string::npos);
  EXPECT_EQ(md.find("### Your rights\n"), std::string::npos);
  EXPECT_NE(md.find("Rydym yn casglu: Identity Data, Contact Data"), std::string::npos) << md;
  EXPECT_NE(md.find("Usage Data a Marketing and Communications Data."), std::string::npos);
  EXPECT_NE(md.find("**Hawl mynediad**:"), std::string::npos);
  EXPECT_NE(md.find("We respond within un mis of receiving your request."), std::string::npos);
  // The policy's own words are not phrases of the notice: they stay as the policy gives them.
  EXPECT_NE(md.find("We do not sell, trade or rent your information to other parties."),
            std::string::npos);
  // The privacy centre's fragment speaks the same words; outside the notice nothing changes.
  NoticeFragment fragment = RenderNoticeFragment(policy, *templates);
  EXPECT_NE(fragment.html.find(">Eich hawliau</h3>"), std::string::npos);
  EXPECT_EQ(RightInWords("access"),
            "You can ask for a copy of the personal data we hold about you and how we use it.");
  EXPECT_EQ(PeriodInWords(*IsoPeriod::Parse("P1M")), "one month");
}

TEST(NoticeTemplates, AWordsFileThatIsNotAMapOfTextIsRefused) {
  TemplateFolder folder;
  folder.Write("words.yaml", "- In short\n- Yn fyr\n");
  auto loaded = LoadNoticeTemplates(folder.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(
      loaded.status().message().find(folder.path() + "/words.yaml:1: the words must be a map"),
      std::string::npos)
      << loaded.status().message();
  folder.Write("words.yaml", "\"In short\":\n  - Yn fyr\n");
  loaded = LoadNoticeTemplates(folder.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("words.yaml:1: each phrase needs its translation"),
            std::string::npos)
      << loaded.status().message();
}

// templates/notice/phrases.txt lists every phrase the code composes through Tr("..."), so a
// translator works from the whole list (tools/notice_phrases.py writes it).
TEST(NoticeTemplates, PhrasesListEveryPhraseOfTheCode) {
  std::set<std::string> listed;
  {
    std::ifstream in(kTemplates + "/phrases.txt");
    std::string line;
    while (std::getline(in, line)) listed.insert(line);
  }
  ASSERT_GT(listed.size(), 200u);
  std::set<std::string> used;
  const std::regex run(R"re(\bTr\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\))re");
  const std::regex literal(R"re("((?:[^"\\]|\\.)*)")re");
  for (const auto& entry : fs::directory_iterator(std::string(CUSTOS_SOURCE_DIR) + "/src/policy")) {
    std::string name = entry.path().filename().string();
    if (name.rfind("notice_", 0) != 0 || entry.path().extension() != ".cc") continue;
    std::string source = ReadAll(entry.path().string());
    for (auto m = std::sregex_iterator(source.begin(), source.end(), run);
         m != std::sregex_iterator(); ++m) {
      std::string phrase, parts = (*m)[1];
      for (auto l = std::sregex_iterator(parts.begin(), parts.end(), literal);
           l != std::sregex_iterator(); ++l) {
        std::string text = (*l)[1];
        for (size_t i = 0; i < text.size(); ++i) {
          if (text[i] == '\\' && i + 1 < text.size()) ++i;
          phrase += text[i];
        }
      }
      used.insert(phrase);
    }
  }
  for (const auto& phrase : used) EXPECT_TRUE(listed.count(phrase)) << "not listed: " << phrase;
  for (const auto& phrase : listed) EXPECT_TRUE(used.count(phrase)) << "not used: " << phrase;
}

}  // namespace
}  // namespace custos::policy
