// A generated notice is faithful to the seed notice it comes from: nothing dropped, nothing
// invented. For each seed policy, tests/policy/fidelity/<policy>.txt holds
// - promises: each statement of the seed (quoted, from docs/SEED-COVERAGE.md and the seed itself)
//   with the words of the generated notice that carry it (`find:`); every one must be found;
// - claims: each kind of sentence the generated notice says (`claim:`, the start of the sentence;
//   `heading:`, a heading or label matched whole) with the seed sentence it comes from (`seed:`);
//   every sentence of the generated notice must match one claim, and every claim must still be
//   made.
// The checker is tested too: a policy altered to drop a promise or to add an invented sentence
// fails it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "policy/loader.h"
#include "policy/notice.h"
#include "policy/warnings.h"

namespace custos::policy {
namespace {

struct Promise {
  std::string seed;
  std::vector<std::string> finds;
  int line = 0;
};

struct Claim {
  std::string start;
  std::string seed;
  int line = 0;
  bool whole = false;  // a heading: the sentence must be exactly this
};

struct Fidelity {
  std::vector<Promise> promises;
  std::vector<Claim> claims;
  std::vector<std::string> errors;  // a malformed checklist file
};

// Lower case, curly quotes and dashes made plain, whitespace runs made one space, trimmed.
std::string Normalise(std::string_view text) {
  std::string out;
  bool space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    // U+2018/2019 (‘ ’) and U+201C/201D (“ ”), U+2013/2014 (– —) as UTF-8.
    if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80) {
      unsigned char d = static_cast<unsigned char>(text[i + 2]);
      char plain = 0;
      if (d == 0x98 || d == 0x99) plain = '\'';
      if (d == 0x9C || d == 0x9D) plain = '"';
      if (d == 0x93 || d == 0x94) plain = '-';
      if (plain != 0) {
        if (space && !out.empty()) out += ' ';
        space = false;
        out += plain;
        i += 2;
        continue;
      }
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

Fidelity ReadFidelity(const std::string& path) {
  Fidelity f;
  std::ifstream in(path);
  if (!in) {
    f.errors.push_back("cannot read " + path);
    return f;
  }
  std::string line;
  int number = 0;
  auto value = [&line](size_t prefix) {
    std::string v = line.substr(prefix);
    v.erase(0, v.find_first_not_of(' '));
    return v;
  };
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("promise:", 0) == 0) {
      f.promises.push_back({value(8), {}, number});
    } else if (line.rfind("find:", 0) == 0) {
      if (f.promises.empty()) {
        f.errors.push_back(path + ":" + std::to_string(number) + ": find: before any promise:");
      } else {
        f.promises.back().finds.push_back(value(5));
      }
    } else if (line.rfind("claim:", 0) == 0) {
      f.claims.push_back({value(6), "", number, false});
    } else if (line.rfind("heading:", 0) == 0) {
      f.claims.push_back({value(8), "", number, true});
    } else if (line.rfind("seed:", 0) == 0) {
      if (f.claims.empty() || !f.claims.back().seed.empty()) {
        f.errors.push_back(path + ":" + std::to_string(number) + ": seed: without its claim:");
      } else {
        f.claims.back().seed = value(5);
      }
    } else {
      f.errors.push_back(path + ":" + std::to_string(number) + ": unknown line: " + line);
    }
  }
  for (const auto& p : f.promises) {
    if (p.finds.empty()) {
      f.errors.push_back(path + ":" + std::to_string(p.line) + ": promise without find:");
    }
  }
  for (const auto& c : f.claims) {
    if (c.seed.empty() || (!c.whole && c.start.size() < 6)) {
      f.errors.push_back(path + ":" + std::to_string(c.line) +
                         ": a claim needs its seed: sentence and a start of 6 or more characters");
    }
  }
  return f;
}

// The notice's text without Markdown: headings, list marks, emphasis, escapes and link targets
// removed; one line per block.
std::vector<std::string> PlainLines(const std::string& markdown) {
  std::vector<std::string> lines;
  std::istringstream in(markdown);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    line = line.substr(start);
    if (line[0] == '#') line.erase(0, line.find_first_not_of("# "));
    if (line.rfind("- ", 0) == 0) line.erase(0, 2);
    std::string plain;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line.compare(i, 2, "**") == 0) {
        ++i;
        continue;
      }
      if (line[i] == '\\' && i + 1 < line.size()) {
        plain += line[++i];
        continue;
      }
      if (line.compare(i, 3, "](<") == 0) {  // [text](<target>): keep the text only
        size_t close = line.find(">)", i);
        if (close != std::string::npos) {
          i = close + 1;
          continue;
        }
      }
      if (line[i] == '[' || line[i] == ']') continue;
      plain += line[i];
    }
    lines.push_back(plain);
  }
  return lines;
}

// Sentences of one line: split after . ! ? or : followed by a space and a capital letter or a
// digit (so "Lawful basis: Consent" and "e.g. Facebook" stay whole where they should).
std::vector<std::string> Sentences(const std::string& line) {
  std::vector<std::string> out;
  size_t begin = 0;
  for (size_t i = 0; i + 2 < line.size(); ++i) {
    char c = line[i];
    if ((c == '.' || c == '!' || c == '?') && line[i + 1] == ' ' &&
        (std::isupper(static_cast<unsigned char>(line[i + 2])) || line[i + 2] == '(')) {
      // "e.g. Facebook", "i.e. X", "No. 5": not the end of a sentence.
      std::string before = line.substr(begin, i + 1 - begin);
      bool abbreviation =
          before.size() >= 4 && (before.compare(before.size() - 4, 4, "e.g.") == 0 ||
                                 before.compare(before.size() - 4, 4, "i.e.") == 0);
      if (abbreviation) continue;
      out.push_back(before);
      begin = i + 2;
    }
  }
  if (begin < line.size()) out.push_back(line.substr(begin));
  return out;
}

struct Report {
  std::vector<std::string> dropped;   // promises whose words the notice lacks
  std::vector<std::string> untraced;  // notice sentences no claim accounts for
  std::vector<std::string> unused;    // claims the notice no longer makes
};

Report CheckNotice(const std::string& markdown, const Fidelity& f) {
  Report report;
  std::string whole;
  std::vector<std::string> sentences;
  for (const auto& line : PlainLines(markdown)) {
    whole += Normalise(line) + "\n";
    for (const auto& sentence : Sentences(line)) sentences.push_back(Normalise(sentence));
  }
  for (const auto& promise : f.promises) {
    for (const auto& find : promise.finds) {
      if (whole.find(Normalise(find)) == std::string::npos) {
        report.dropped.push_back("line " + std::to_string(promise.line) + " \"" + promise.seed +
                                 "\": not found: " + find);
      }
    }
  }
  std::vector<bool> used(f.claims.size(), false);
  for (const auto& sentence : sentences) {
    bool traced = false;
    for (size_t i = 0; i < f.claims.size(); ++i) {
      std::string claim = Normalise(f.claims[i].start);
      bool match = f.claims[i].whole ? sentence == claim : sentence.rfind(claim, 0) == 0;
      if (match) {
        used[i] = true;
        traced = true;
      }
    }
    if (!traced) report.untraced.push_back(sentence);
  }
  for (size_t i = 0; i < f.claims.size(); ++i) {
    if (!used[i]) {
      report.unused.push_back("line " + std::to_string(f.claims[i].line) + ": " +
                              f.claims[i].start);
    }
  }
  return report;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += "  " + item + "\n";
  return out;
}

std::string FidelityFile(const std::string& policy) {
  return std::string(CUSTOS_SOURCE_DIR) + "/tests/policy/fidelity/" + policy + ".txt";
}

Policy LoadSeedPolicy(const std::string& name) {
  Result<Policy> loaded =
      LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/" + name + ".yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return loaded.ok() ? loaded.value() : Policy{};
}

class SeedNoticeFidelity : public ::testing::TestWithParam<std::string> {};

TEST_P(SeedNoticeFidelity, EverySeedStatementIsInTheNoticeAndEverySentenceTracesToTheSeed) {
  Fidelity f = ReadFidelity(FidelityFile(GetParam()));
  ASSERT_TRUE(f.errors.empty()) << Join(f.errors);
  ASSERT_FALSE(f.promises.empty());
  ASSERT_FALSE(f.claims.empty());
  std::string markdown = RenderNotice(LoadSeedPolicy(GetParam()), NoticeFormat::kMarkdown);
  Report report = CheckNotice(markdown, f);
  EXPECT_TRUE(report.dropped.empty()) << "seed statements missing from the notice:\n"
                                      << Join(report.dropped);
  EXPECT_TRUE(report.untraced.empty()) << "notice sentences no seed sentence accounts for:\n"
                                       << Join(report.untraced);
  EXPECT_TRUE(report.unused.empty()) << "claims the notice no longer makes:\n"
                                     << Join(report.unused);
}

// Every checklist in tests/policy/fidelity/ is checked against the policy of the same name.
std::vector<std::string> Checklists() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CUSTOS_SOURCE_DIR) +
                                                               "/tests/policy/fidelity")) {
    if (entry.path().extension() == ".txt") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Each of the five seed notices has its checklist.
TEST(SeedNoticeFidelityCheck, EverySeedPolicyHasAChecklist) {
  std::vector<std::string> expected = {"pluggin", "progress_together", "progressteaching",
                                       "protectuk", "wig"};
  EXPECT_EQ(Checklists(), expected);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SeedNoticeFidelity, ::testing::ValuesIn(Checklists()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// A drafting note never reaches published text: no seed policy's notice talks about the notice,
// the seed or what is "not stated" (ProtectUK's "the notice gives no fixed period, so we review
// ..." once did).
TEST(SeedNoticeFidelityCheck, NoDraftingNoteIsPublished) {
  for (const char* name : {"pluggin", "progress_together", "progressteaching",
                           "progressteaching_schools", "protectuk", "wig"}) {
    Policy policy = LoadSeedPolicy(name);
    for (NoticeFormat format : {NoticeFormat::kMarkdown, NoticeFormat::kHtml}) {
      std::string text = Normalise(RenderNotice(policy, format));
      for (const char* note :
           {"the notice gives no", "the notice names no", "the seed", "not stated", "not_stated",
            "format gap", "working rule", "drafting"}) {
        EXPECT_EQ(text.find(note), std::string::npos) << name << ": " << note;
      }
    }
  }
}

// The check can fail. ProtectUK, seed 003: "We do not sell, trade or rent your information to
// other parties." Dropping that statement from the policy is caught as a dropped promise.
TEST(SeedNoticeFidelityCheck, ADroppedNegativePromiseFails) {
  Fidelity f = ReadFidelity(FidelityFile("protectuk"));
  Policy policy = LoadSeedPolicy("protectuk");
  auto& statements = policy.notice.statements;
  size_t before = statements.size();
  statements.erase(std::remove_if(statements.begin(), statements.end(),
                                  [](const Statement& s) {
                                    return s.text.find("do not sell") != std::string::npos;
                                  }),
                   statements.end());
  ASSERT_EQ(statements.size() + 1, before);
  Report report = CheckNotice(RenderNotice(policy, NoticeFormat::kMarkdown), f);
  ASSERT_FALSE(report.dropped.empty());
  EXPECT_NE(report.dropped.front().find("do not sell"), std::string::npos);
}

// ...and so is an invented one: a review period the seed never states ("We will only retain
// your personal data for as long as reasonably necessary" gives none) made public again.
TEST(SeedNoticeFidelityCheck, AnInventedPeriodFails) {
  Fidelity f = ReadFidelity(FidelityFile("protectuk"));
  Policy policy = LoadSeedPolicy("protectuk");
  for (auto& rule : policy.retention) rule.period_stated = true;
  Report report = CheckNotice(RenderNotice(policy, NoticeFormat::kMarkdown), f);
  bool twelve_months =
      std::any_of(report.untraced.begin(), report.untraced.end(), [](const std::string& s) {
        return s.find("12 months after we collected it") != std::string::npos;
      });
  EXPECT_TRUE(twelve_months) << Join(report.untraced);
}

// An invented sentence in the organisation's own words is caught too.
TEST(SeedNoticeFidelityCheck, AnInventedStatementFails) {
  Fidelity f = ReadFidelity(FidelityFile("protectuk"));
  Policy policy = LoadSeedPolicy("protectuk");
  policy.notice.statements.push_back({"recipients", "Our partners may sell your data.", {}});
  Report report = CheckNotice(RenderNotice(policy, NoticeFormat::kMarkdown), f);
  ASSERT_EQ(report.untraced.size(), 1u) << Join(report.untraced);
  EXPECT_EQ(report.untraced.front(), "our partners may sell your data.");
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// WIG, seed 002: "You can do this by contacting [email protected]" -- the copy leaves every
// e-mail address out. The policy says so, `policy check` warns, and the notice never prints an
// empty "by e-mail": it points to the channels the seed does give.
TEST(NoticeFaithfulness, WigEmailLeftOutOfTheSeedIsWarnedAndNeverPrintedEmpty) {
  Policy wig = LoadSeedPolicy("wig");
  size_t not_stated = 0;
  for (const auto& warning : PolicyWarnings(wig)) {
    if (warning.code == ErrorCode::kAddressNotStated) ++not_stated;
  }
  EXPECT_EQ(not_stated, 4u);
  std::string md = RenderNotice(wig, NoticeFormat::kMarkdown);
  EXPECT_EQ(md.find("(by e-mail"),
            std::string::npos);  // was "Withdrawing your consent (by e-mail ...)"
  EXPECT_NE(md.find("**Withdrawing your consent (at any time)**: phone"), std::string::npos) << md;
  EXPECT_EQ(md.find("at a member."), std::string::npos);
  // The seed says nothing about where data is processed: neither does the notice.
  EXPECT_EQ(md.find("outside the United Kingdom"), std::string::npos);
  EXPECT_EQ(md.find("Where: "), std::string::npos);
  // The date as the seed gives it ("Privacy policy draft completed: 10 February 2022").
  EXPECT_NE(md.find("last updated 10 February 2022"), std::string::npos);
}

// No sentence said twice: WIG's cookie description already says it needs consent.
TEST(NoticeFaithfulness, ConsentForCookiesIsSaidOnce) {
  std::string md = RenderNotice(LoadSeedPolicy("wig"), NoticeFormat::kMarkdown);
  EXPECT_NE(md.find("We set them only if you consent."), std::string::npos);
  EXPECT_EQ(md.find("We set these only if you consent"), std::string::npos);
}

// ProtectUK, seed 003: one DPO (Darren Curtis) printed once; the controller is the Commissioner;
// the organisation's own data groups, never taxonomy labels; a table of contents.
TEST(NoticeFaithfulness, ProtectUkControllerDpoGroupsAndContents) {
  Policy policy = LoadSeedPolicy("protectuk");
  std::string md = RenderNotice(policy, NoticeFormat::kMarkdown);
  EXPECT_EQ(Count(md, "Darren Curtis"), 1u);
  EXPECT_NE(md.find("The Commissioner of the Metropolitan Police Service is the controller"),
            std::string::npos);
  EXPECT_EQ(md.find("ProtectUK is the controller"), std::string::npos);
  for (const char* label : {"Account Information", "Device Data", "User Contact",
                            "Contact Data, "
                            "Contact Data"}) {
    EXPECT_EQ(md.find(label), std::string::npos) << label;
  }
  EXPECT_NE(md.find("- **Identity Data**: includes"), std::string::npos);
  EXPECT_NE(md.find("## Contents\n\n- Who we are\n"), std::string::npos);
  std::string html = RenderNotice(policy, NoticeFormat::kHtml);
  EXPECT_NE(html.find("href=\"#links\""), std::string::npos);
  EXPECT_NE(html.find("href=\"#glossary\""), std::string::npos);
}

// ProgressTeaching, seed 001: "We may use automated systems to help us make decisions" -- not a
// decision by automated means alone.
TEST(NoticeFaithfulness, AutomatedHelpIsNotCalledADecisionByAutomatedMeansAlone) {
  std::string md = RenderNotice(LoadSeedPolicy("progressteaching"), NoticeFormat::kMarkdown);
  EXPECT_EQ(md.find("made by automated means alone"), std::string::npos);
  EXPECT_EQ(md.find("Some decisions are made by automated means alone"), std::string::npos);
  EXPECT_NE(md.find("automated systems help us make these decisions"), std::string::npos);
  EXPECT_EQ(md.find("PECR"), std::string::npos);
}

// A safeguard the notice does not name is warned about and never invented.
TEST(NoticeFaithfulness, UnstatedSafeguardIsWarnedAndNotNamed) {
  Policy policy = LoadSeedPolicy("progressteaching");
  Recipient* sites = nullptr;
  for (auto& recipient : policy.recipients) {
    if (recipient.key == "advertising_platforms") sites = &recipient;
  }
  ASSERT_NE(sites, nullptr);
  sites->countries.push_back({"US", {}});
  sites->safeguard = "not_stated";
  bool warned = false;
  for (const auto& warning : PolicyWarnings(policy)) {
    warned = warned || warning.code == ErrorCode::kSafeguardNotStated;
  }
  EXPECT_TRUE(warned);
  std::string md = RenderNotice(policy, NoticeFormat::kMarkdown);
  EXPECT_NE(md.find("Where: the United States."), std::string::npos);
  EXPECT_EQ(md.find("adequacy"), std::string::npos);
  EXPECT_EQ(md.find("protected by the safeguards the law requires"), std::string::npos);
  EXPECT_EQ(md.find("not_stated"), std::string::npos);
}

}  // namespace
}  // namespace custos::policy
