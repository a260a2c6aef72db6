#include "cli/help.h"

#include <algorithm>

#include "common/build_info.h"

namespace custos::cli {

namespace {

struct Verb {
  std::string_view name;
  std::string_view group;  // the heading it is listed under in the usage text
  std::string_view forms;  // one form per line, without "custos"
  std::string_view what;   // one or two sentences
};

constexpr std::string_view kDocuments = "policy documents (no data directory)";
constexpr std::string_view kData =
    "personal data (global options before the verb: --data DIR, --database postgresql://... "
    "[--schema NAME],\n--controller KEY, --master-key PATH, --now TIME for the engine's clock, "
    "--json)";
constexpr std::string_view kRequests = "rights requests";
constexpr std::string_view kServer = "server";

constexpr Verb kVerbs[] = {
    {"policy", kDocuments, "policy check FILE [--quiet] [--strict]\npolicy diff OLD NEW [--json]",
     "Validates a policy file; every problem names file:line and a fix. Exit 1 when invalid. "
     "diff: what changed between two versions, which changes are material and which purposes "
     "need fresh consent."},
    {"notice", kDocuments, "notice FILE [--format md|html] [--templates DIR] [--output FILE]",
     "The privacy notice generated from the policy (laid out by DIR's templates)."},
    {"ropa", kDocuments, "ropa FILE [--format csv|json] [--output FILE]",
     "The Article 30 record of processing activities, with the ICO template's columns."},
    {"datamap", kDocuments,
     "datamap FILE [--format dot|svg] [--output FILE] [--purpose KEY | --subject-type KEY]",
     "The data map: sources, categories, purposes, recipients."},
    {"init", kData, "--data DIR init --policy FILE",
     "Creates the data directory (database and master key) for the policy's controller."},
    {"subject", kData,
     "--data DIR subject add [ID] --type T [--type T] [--email E] [--phone P] [--external X]\n"
     "      [--verified] [--at TIME]\n"
     "--data DIR subject show ID\n"
     "--data DIR subject find --email E | --phone P | --external X",
     "Adds a person, shows what is held about them, or finds them by an identifier."},
    {"event", kData, "--data DIR event SUBJECT EVENT [--at TIME]",
     "Records a lifecycle event (membership_ended, last_activity, ...) that starts retention."},
    {"record", kData,
     "--data DIR record put SUBJECT CATEGORY VALUE --source S --purpose P [--at TIME]\n"
     "--data DIR record state SUBJECT CATEGORY",
     "Stores a sealed value, or shows the state of a person's records of a category."},
    {"consent", kData,
     "--data DIR consent give|withdraw SUBJECT PURPOSE [--cookie] [--channel C] [--evidence E]\n"
     "      [--notice-version V] [--at TIME]\n"
     "--data DIR consent export SUBJECT",
     "Appends to the consent ledger, or exports it (ISO/IEC 27560-shaped JSON)."},
    {"disclose", kData, "--data DIR disclose SUBJECT RECIPIENT PURPOSE CATEGORY... [--at TIME]",
     "Records that a person's data went to a recipient (the disclosure log): access packages "
     "list it, and Article 19 notices go to the recipients it names."},
    {"preference", kData,
     "--data DIR preference set SUBJECT email|sms|post|phone on|off [--at TIME]",
     "Sets a contact channel preference."},
    {"object", kData, "--data DIR object SUBJECT PURPOSE|direct_marketing|'*' [--lift] [--at TIME]",
     "Records an objection (Article 21), or lifts it."},
    {"restrict", kData,
     "--data DIR restrict SUBJECT [CATEGORY...] --reason R\n--data DIR restrict SUBJECT --lift ID",
     "Restricts processing (Article 18), or lifts a restriction."},
    {"suppress", kData, "--data DIR suppress --email E | --phone P | --external X --reason R",
     "Puts an identifier on the suppression list: never contacted again."},
    {"decide", kData, "--data DIR decide SUBJECT PURPOSE CATEGORY... [--channel C] [--at TIME]",
     "May this purpose use these categories of this person now? Exit 0 allow, 1 deny."},
    {"audit", kData, "--data DIR audit verify\n--data DIR audit checkpoint",
     "Recomputes the keyed audit chain and checks it against the last signed checkpoint, or "
     "signs a checkpoint of its head now."},
    {"retention", kData,
     "--data DIR retention plan [--as-of TIME] [--json]\n--data DIR retention run [--as-of TIME]",
     "Shows what a sweep would do (dry run), or runs it (resuming an interrupted run first)."},
    {"hold", kData,
     "--data DIR hold place (--subject S | --category C) --reason R [--expires TIME]\n"
     "--data DIR hold release ID\n--data DIR hold list",
     "Legal holds: suspend retention and erasure."},
    {"review", kData, "--data DIR review list [--all]\n--data DIR review done ID [--at TIME]",
     "The DPO's review tasks opened by retention rules."},
    {"breach", kData,
     "--data DIR breach record --nature TEXT --discovered TIME [--aware TIME] --category C...\n"
     "      [--purpose P...] [--subject-type T...] [--from TIME] [--to TIME] [--risk R\n"
     "      --reasoning TEXT] [--how T] [--cyber] [--consequences T] [--measures T] [--id ID]\n"
     "--data DIR breach list | show ID | tell ID | close ID\n"
     "--data DIR breach assess ID --risk none|risk|high_risk --reasoning TEXT\n"
     "--data DIR breach update ID [--measures T] [--consequences T] [--not-told-reason T] ...\n"
     "--data DIR breach report ID --reported TIME [--reference REF] [--delay-reason TEXT]\n"
     "--data DIR breach export ID [--format json|html] [--output FILE]",
     "The breach register: who and what a breach touched (counted from the store), the 72-hour "
     "clock to the regulator, notices to the people affected, the ICO-shaped report."},
    {"application", kData,
     "--data DIR application authorise NAME --recipient R --purpose P... --category C...\n"
     "      --expires TIME\n"
     "--data DIR application list\n--data DIR application revoke ID",
     "Third-party applications the controller authorises (the policy's third_party_apps): a "
     "token limited to the grant's purposes and categories until it expires, every decision it "
     "asks audited and listed in the person's access package."},
    {"systems", kData,
     "--data DIR systems check [--json]\n"
     "--data DIR systems sweep [--apply] [--batch N] [--at TIME] [--json]",
     "The organisation's own databases the policy declares (docs/SYSTEMS.md): whether each "
     "answers as declared, and retention applied to their rows."},
    {"aggregate", kData, "--data DIR aggregate CATEGORY [--threshold N]",
     "Counts people per value, small cells suppressed."},
    {"import", kData,
     "--data DIR import --mapping FILE [--rejects FILE] [--batch N]\n"
     "      [--progress auto|bar|lines|none] DATA.csv|DATA.jsonl...",
     "Brings people in from CRM exports as a mapping file says (docs/IMPORT.md): streamed, a\n"
     "batch per transaction, idempotent; a summary and a reject file of rejected rows."},
    {"request", kRequests,
     "--data DIR request open TYPE (--email E | --phone P | --subject S [--verified-by METHOD])\n"
     "      [--id R] [--category C]... [--purpose P] [--rectify CATEGORY=VALUE]... [--note TEXT]\n"
     "--data DIR request verify R CODE | request verify R --staff METHOD [--subject S]\n"
     "--data DIR request resend R | request wait R clarification|fee | request answered R\n"
     "--data DIR request extend R complex|numerous | request refuse R REASON\n"
     "--data DIR request withdraw R | request fulfil R [--outcome TEXT]\n"
     "--data DIR request show R [--field F]\n"
     "--data DIR request list [--open|--due-soon|--overdue] [--within DAYS] [--as-of TIME]\n"
     "--data DIR request document R json|html|csv | request recipients R\n"
     "--data DIR request plan R [--json] | request waive-system R SYSTEM --reason TEXT\n"
     "--data DIR request purge [--as-of TIME]",
     "Rights requests end to end: identity, the month, fulfilment, notices; every verb takes "
     "--at TIME (docs/CLI.md)."},
    {"outbox", kRequests,
     "--data DIR outbox list [--request R]\n"
     "--data DIR outbox read ID [--field to|subject|body|code|unsubscribe_token]\n"
     "--data DIR outbox read --request R --last [--field F]\n"
     "--data DIR outbox deliver [--max N] [--mail FILE]",
     "The local outbox of messages, and one delivery pass to registered endpoints."},
    {"endpoint", kRequests,
     "--data DIR endpoint set RECIPIENT URL --secret S\n"
     "--data DIR endpoint set requester smtp[s]://HOST[:PORT]\n--data DIR endpoint list",
     "Where a recipient's messages are POSTed, signed; or the mail server that e-mails "
     "requesters."},
    {"serve", kServer,
     "serve --data DIR [--policy FILE] [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]\n"
     "      [--threads N] [--max-body BYTES] [--rate-limit PER_SECOND]\n"
     "      [--address-rate-limit PER_SECOND] [--log-requests all|errors|none] [--test-clock]\n"
     "      [--drain-seconds N] [--sweep-every SECONDS] [--deliver-every SECONDS]\n"
     "      [--mail FILE] [--refresh-every MILLISECONDS] [--cache-people N]\n"
     "      [--wait-for-database SECONDS] [--centre-path PATH|none] [--notice-templates DIR]",
     "The HTTP API over the data directory (src/api/openapi.json); SIGTERM drains it."},
    {"token", kServer,
     "--data DIR token create --role admin|dpo|staff|processor|subject [--purpose P]...\n"
     "      [--controller C --category C...] [--subject ID] [--label TEXT]\n"
     "--data DIR token list\n--data DIR token revoke ID",
     "API tokens for the server: printed once, stored hashed."},
};

const Verb* Find(std::string_view name) {
  for (const Verb& verb : kVerbs) {
    if (verb.name == name) return &verb;
  }
  return nullptr;
}

// Each form line prefixed with "custos " (continuation lines, which start with a space, are
// indented to match).
std::string Forms(const Verb& verb, std::string_view indent) {
  std::string text;
  std::string_view forms = verb.forms;
  while (!forms.empty()) {
    size_t end = forms.find('\n');
    std::string_view line = forms.substr(0, end);
    text += std::string(indent) + (line.front() == ' ' ? "       " : "custos ") +
            std::string(line) + "\n";
    forms = end == std::string_view::npos ? std::string_view() : forms.substr(end + 1);
  }
  return text;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string UsageText() {
  std::string text = "usage: custos <command> [arguments]   (custos COMMAND --help for one)\n";
  std::string_view group;
  for (const Verb& verb : kVerbs) {
    if (verb.group != group) {
      group = verb.group;
      text += "\n" + std::string(group) + ":\n";
    }
    text += Forms(verb, "  ");
  }
  text +=
      "\ncustos --version prints the version and build.\n"
      "Exit codes: 0 ok, 1 invalid input or refused (a deny), 2 wrong command line,\n"
      "3 file, data directory or database not usable.\n";
  return text;
}

std::optional<std::string> VerbHelp(std::string_view name) {
  const Verb* verb = Find(name);
  if (verb == nullptr) return std::nullopt;
  return "usage:\n" + Forms(*verb, "  ") + "\n" + std::string(verb->what) +
         "\nTimes are ISO-8601; --json makes the output readable by a program (docs/CLI.md).\n";
}

std::vector<std::string> Verbs() {
  std::vector<std::string> names;
  for (const Verb& verb : kVerbs) names.emplace_back(verb.name);
  return names;
}

std::string VersionText() {
  return "custos " + std::string(BuildVersion()) + " (build " + std::string(BuildCommit()) + ", " +
         std::string(BuildType()) + ")\n";
}

std::string Nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const std::string& candidate : candidates) {
    size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  size_t limit = std::max<size_t>(word.size() <= 6 ? 2 : 1, word.size() / 3);
  return best_distance > 0 && best_distance <= limit ? best : std::string();
}

}  // namespace custos::cli
