#include "connectors/https_system.h"

#include <curl/curl.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "connectors/connection_text.h"

namespace custos::connectors {

namespace {

constexpr size_t kMaxAnswer = size_t{16} << 20;  // 16 MiB: more is not a page of rows

struct Options {
  std::string url, token, ca, token_header;
};

struct CurlUrlFree {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlFree {
  void operator()(char* part) const { curl_free(part); }
};

// The URL's part `which`, or "" when it has none.
std::string UrlPart(CURLU* url, CURLUPart which) {
  char* raw = nullptr;
  if (curl_url_get(url, which, &raw, 0) != CURLUE_OK || raw == nullptr) return "";
  std::unique_ptr<char, CurlFree> part(raw);
  return raw;
}

Result<Options> ParseConnection(const std::string& system, const std::string& text) {
  ASSIGN_OR_RETURN(auto pairs, ReadConnectionText(system, "HTTPS", text,
                                                  {"url", "token", "ca", "token_header"}));
  Options options{pairs["url"], pairs["token"], pairs["ca"], pairs["token_header"]};
  std::unique_ptr<CURLU, CurlUrlFree> url(curl_url());
  if (options.url.empty() || !url ||
      curl_url_set(url.get(), CURLUPART_URL, options.url.c_str(), 0) != CURLUE_OK) {
    return Status(ErrorCode::kInvalidArgument,
                  "system " + system + ": the HTTPS connection has no valid url=https://...");
  }
  if (UrlPart(url.get(), CURLUPART_SCHEME) != "https") {
    return Status(ErrorCode::kInvalidArgument,
                  "system " + system +
                      ": the service's url must be https:// (custos sends "
                      "personal data to it)");
  }
  if (!UrlPart(url.get(), CURLUPART_USER).empty() ||
      !UrlPart(url.get(), CURLUPART_PASSWORD).empty() ||
      !UrlPart(url.get(), CURLUPART_QUERY).empty() ||
      !UrlPart(url.get(), CURLUPART_FRAGMENT).empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "system " + system +
                      ": the service's url must be https://HOST[:PORT][/PATH] "
                      "without a user, query or fragment (put a token in token=)");
  }
  while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  return options;
}

bool SameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A member's value as a column's text: strings as they are, numbers and booleans as written,
// objects and arrays as JSON; null or absent: nullopt.
std::optional<std::string> ColumnText(const rapidjson::Value& row, const std::string& column) {
  auto member = row.FindMember(column.c_str());
  if (member == row.MemberEnd() || member->value.IsNull()) return std::nullopt;
  if (member->value.IsString()) {
    return std::string(member->value.GetString(), member->value.GetStringLength());
  }
  if (member->value.IsBool()) return std::string(member->value.GetBool() ? "true" : "false");
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  member->value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

engine::SystemRow RowOf(const rapidjson::Value& object, const std::vector<std::string>& columns) {
  engine::SystemRow row;
  row.reserve(columns.size());
  for (const auto& column : columns) row.push_back(ColumnText(object, column));
  return row;
}

struct Answer {
  long status = 0;
  std::string body;
};

size_t Append(char* data, size_t size, size_t count, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * count > kMaxAnswer) return 0;  // curl fails the transfer
  body->append(data, size * count);
  return size * count;
}

class HttpsSystem : public engine::SystemConnector {
 public:
  HttpsSystem(policy::System system, Options options)
      : system_(std::move(system)), options_(std::move(options)), curl_(curl_easy_init()) {}
  ~HttpsSystem() override {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }

  void Reconfigure(const policy::System& system) { system_ = system; }

  Result<std::vector<std::string>> Columns(const std::string& table) override {
    ASSIGN_OR_RETURN(const policy::Dataset* dataset, DatasetOf(table));
    if (!dataset->calls.list.configured()) {
      return Status(ErrorCode::kInvalidValue,
                    Name(*dataset) + " has no 'list' call, so custos cannot look at its rows");
    }
    ASSIGN_OR_RETURN(rapidjson::Document answer,
                     ListPage(*dataset, dataset->retention_starts, "9999-12-31", "", 1));
    std::vector<std::string> columns;
    ASSIGN_OR_RETURN(const rapidjson::Value* rows, RowsIn(*dataset, answer, "list"));
    for (const auto& row : rows->GetArray()) {
      if (!row.IsObject()) continue;
      for (const auto& member : row.GetObject()) {
        std::string name(member.name.GetString(), member.name.GetStringLength());
        if (std::find(columns.begin(), columns.end(), name) == columns.end()) {
          columns.push_back(std::move(name));
        }
      }
    }
    if (columns.empty()) {
      // An empty service shows no fields: there is nothing in it to check (or to erase).
      for (const auto& field : dataset->fields) columns.push_back(field.name);
      columns.push_back(dataset->primary_key);
      for (const auto& by : dataset->find_by) columns.push_back(by.column);
      if (dataset->join) columns.push_back(dataset->join->field);
      if (!dataset->retention_starts.empty()) columns.push_back(dataset->retention_starts);
    }
    return columns;
  }

  Result<int64_t> CountRows(const std::string& table) override {
    ASSIGN_OR_RETURN(const policy::Dataset* dataset, DatasetOf(table));
    if (!dataset->calls.list.configured() || dataset->calls.total.empty()) {
      return Status(ErrorCode::kInvalidValue, Name(*dataset) + " does not say its rows");
    }
    ASSIGN_OR_RETURN(rapidjson::Document answer,
                     ListPage(*dataset, dataset->retention_starts, "9999-12-31", "", 1));
    const rapidjson::Value* total = rapidjson::Pointer(dataset->calls.total.c_str()).Get(answer);
    if (total == nullptr || !total->IsInt64()) {
      return Status(ErrorCode::kInvalidValue,
                    Name(*dataset) + "'s list answer has no number at " + dataset->calls.total);
    }
    return total->GetInt64();
  }

  Result<std::vector<engine::SystemRow>> Select(const std::string& table,
                                                const std::vector<std::string>& columns,
                                                const std::string& column,
                                                const std::vector<std::string>& values) override {
    ASSIGN_OR_RETURN(const policy::Dataset* dataset, DatasetOf(table));
    std::vector<engine::SystemRow> out;
    std::set<std::string> seen;
    for (const auto& value : values) {
      ASSIGN_OR_RETURN(Answer answer, Call(*dataset, "find", dataset->calls.find,
                                           {{"column", column}, {"value", value}}));
      if (answer.status == 404 || answer.status == 410) continue;  // nobody has it
      ASSIGN_OR_RETURN(rapidjson::Document document, Parse(*dataset, "find", answer));
      ASSIGN_OR_RETURN(const rapidjson::Value* rows, RowsIn(*dataset, document, "find"));
      for (const auto& row : rows->GetArray()) {
        if (!row.IsObject()) continue;
        std::optional<std::string> held = ColumnText(row, column);
        if (!held) continue;
        bool matches = false;
        for (const auto& asked : values) matches = matches || SameText(*held, asked);
        std::optional<std::string> key = ColumnText(row, dataset->primary_key);
        if (!matches || !key || !seen.insert(*key).second) continue;
        if (!dataset->calls.fetch.configured()) {
          out.push_back(RowOf(row, columns));
          continue;
        }
        ASSIGN_OR_RETURN(Answer whole,
                         Call(*dataset, "fetch", dataset->calls.fetch, {{"key", *key}}));
        if (whole.status == 404 || whole.status == 410) continue;  // gone meanwhile
        ASSIGN_OR_RETURN(rapidjson::Document fetched, Parse(*dataset, "fetch", whole));
        if (!fetched.IsObject()) return Unusable(*dataset, "fetch", "is not a JSON object");
        out.push_back(RowOf(fetched, columns));
      }
    }
    return out;
  }

  Result<std::vector<engine::SystemRow>> SelectBefore(
      const std::string& table, const std::vector<std::string>& columns, const std::string& column,
      const std::string& cutoff, const std::string& primary_key, const std::string& after_key,
      int64_t limit) override {
    ASSIGN_OR_RETURN(const policy::Dataset* dataset, DatasetOf(table));
    if (!dataset->calls.list.configured()) {
      return Status(ErrorCode::kInvalidValue, Name(*dataset) + " has no 'list' call");
    }
    // Pages are read until `limit` rows are due or the service has no more: a row the service
    // lists but whose date is not before the cutoff is passed over, never handed on.
    std::vector<engine::SystemRow> out;
    std::string after = after_key;
    while (static_cast<int64_t>(out.size()) < limit) {
      ASSIGN_OR_RETURN(rapidjson::Document answer,
                       ListPage(*dataset, column, cutoff, after, limit));
      ASSIGN_OR_RETURN(const rapidjson::Value* rows, RowsIn(*dataset, answer, "list"));
      const std::string page_from = after;
      for (const auto& row : rows->GetArray()) {
        if (!row.IsObject()) continue;
        std::optional<std::string> key = ColumnText(row, primary_key);
        if (!key) continue;
        after = *key;
        std::optional<std::string> date = ColumnText(row, column);
        if (!date || date->substr(0, 10) >= cutoff) continue;
        if (static_cast<int64_t>(out.size()) < limit) out.push_back(RowOf(row, columns));
      }
      if (static_cast<int64_t>(rows->Size()) < limit || after == page_from) break;
    }
    return out;
  }

  Result<int64_t> Apply(const std::string& table, const std::string& primary_key,
                        const std::vector<engine::RowChange>& changes) override {
    (void)primary_key;  // the calls name the row by {key}
    ASSIGN_OR_RETURN(const policy::Dataset* dataset, DatasetOf(table));
    int64_t changed = 0;
    for (const auto& change : changes) {
      std::string body;
      if (!change.delete_row) {
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
        writer.StartObject();
        for (const auto& [name, value] : change.set) {
          writer.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
          if (value) {
            writer.String(value->c_str(), static_cast<rapidjson::SizeType>(value->size()));
          } else {
            writer.Null();
          }
        }
        writer.EndObject();
        body.assign(buffer.GetString(), buffer.GetSize());
      }
      Result<Answer> answer =
          change.delete_row
              ? Call(*dataset, "delete", dataset->calls.remove, {{"key", change.key}})
              : Call(*dataset, "update", dataset->calls.update, {{"key", change.key}}, body);
      if (!answer.ok()) return answer.status();
      if (answer->status == 404 || answer->status == 410) continue;  // already gone
      if (answer->status < 200 || answer->status > 299) {
        return Unusable(*dataset, change.delete_row ? "delete" : "update",
                        "answered HTTP " + std::to_string(answer->status));
      }
      ++changed;
    }
    return changed;
  }

 private:
  std::string Name(const policy::Dataset& dataset) const {
    return "system " + system_.key + " dataset " + dataset.key;
  }

  Status Unusable(const policy::Dataset& dataset, const char* call, const std::string& what) const {
    return Status(ErrorCode::kInvalidValue,
                  Name(dataset) + ": the " + call + " call's answer " + what);
  }

  Result<const policy::Dataset*> DatasetOf(const std::string& table) const {
    for (const auto& dataset : system_.datasets) {
      if (dataset.table == table) return &dataset;
    }
    return Status(ErrorCode::kNotFound, "system " + system_.key + " has no dataset " + table);
  }

  Result<rapidjson::Document> ListPage(const policy::Dataset& dataset, const std::string& column,
                                       const std::string& cutoff, const std::string& after,
                                       int64_t limit) {
    ASSIGN_OR_RETURN(Answer answer, Call(dataset, "list", dataset.calls.list,
                                         {{"column", column},
                                          {"cutoff", cutoff},
                                          {"after", after},
                                          {"limit", std::to_string(limit)}}));
    return Parse(dataset, "list", answer);
  }

  // The answer's JSON; any status but 2xx is an answer custos cannot use.
  Result<rapidjson::Document> Parse(const policy::Dataset& dataset, const char* call,
                                    const Answer& answer) const {
    if (answer.status < 200 || answer.status > 299) {
      return Unusable(dataset, call, "was HTTP " + std::to_string(answer.status));
    }
    rapidjson::Document document;
    document.Parse(answer.body.c_str(), answer.body.size());
    if (document.HasParseError()) return Unusable(dataset, call, "is not JSON");
    return document;
  }

  // The rows of a find or list answer: the array at the `rows` pointer (or the answer itself);
  // one object stands for one row. The document is changed in place to hold an array.
  Result<const rapidjson::Value*> RowsIn(const policy::Dataset& dataset,
                                         rapidjson::Document& document, const char* call) const {
    rapidjson::Value* rows = &document;
    if (!dataset.calls.rows.empty()) {
      rows = rapidjson::Pointer(dataset.calls.rows.c_str()).Get(document);
      if (rows == nullptr) {
        return Unusable(dataset, call, "has nothing at " + dataset.calls.rows);
      }
    }
    if (rows->IsObject()) {
      rapidjson::Value one(rapidjson::kArrayType);
      one.PushBack(rapidjson::Value(*rows, document.GetAllocator()), document.GetAllocator());
      *rows = std::move(one);
    }
    if (!rows->IsArray()) return Unusable(dataset, call, "holds no rows");
    return rows;
  }

  // Fills the call's placeholders (URL-encoded) and sends it.
  Result<Answer> Call(const policy::Dataset& dataset, const char* name,
                      const policy::ServiceCall& call,
                      const std::map<std::string, std::string>& values,
                      const std::string& body = "") {
    if (!call.configured()) {
      return Status(ErrorCode::kInvalidValue, Name(dataset) + " has no '" + name + "' call");
    }
    if (curl_ == nullptr) {
      return Status(ErrorCode::kUnavailable, "system " + system_.key + ": cannot start libcurl");
    }
    std::string path;
    for (size_t i = 0; i < call.path.size();) {
      size_t open = call.path.find('{', i);
      size_t close = open == std::string::npos ? open : call.path.find('}', open);
      if (close == std::string::npos) {
        path += call.path.substr(i);
        break;
      }
      path += call.path.substr(i, open - i);
      auto value = values.find(call.path.substr(open + 1, close - open - 1));
      if (value != values.end()) {
        char* escaped =
            curl_easy_escape(curl_, value->second.c_str(), static_cast<int>(value->second.size()));
        if (escaped != nullptr) path += escaped;
        curl_free(escaped);
      }
      i = close + 1;
    }
    const std::string url = options_.url + path;
    Answer answer;
    curl_easy_reset(curl_);
    curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
    if (!options_.token.empty()) {
      std::string auth = options_.token_header.empty()
                             ? "Authorization: Bearer " + options_.token
                             : options_.token_header + ": " + options_.token;
      headers = curl_slist_append(headers, auth.c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl_, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
    if (!options_.ca.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, options_.ca.c_str());
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "custos");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    if (call.method != "GET") curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    if (call.method != "GET" && call.method != "DELETE") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &answer.body);
    CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    if (code != CURLE_OK) {
      // curl's words name the failure (TLS, refused, timeout), never the URL.
      return Status(ErrorCode::kUnavailable, "system " + system_.key + ": the " + name +
                                                 " call failed: " + curl_easy_strerror(code));
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &answer.status);
    if (answer.status == 401 || answer.status == 403) {
      return Status(ErrorCode::kUnavailable,
                    "system " + system_.key + " refused custos's credentials (HTTP " +
                        std::to_string(answer.status) + " to " + name + ")");
    }
    if (answer.status == 429 || answer.status >= 500) {
      return Status(ErrorCode::kUnavailable, "system " + system_.key + " answered HTTP " +
                                                 std::to_string(answer.status) + " to " + name +
                                                 "; try again later");
    }
    return answer;
  }

  policy::System system_;
  Options options_;
  CURL* curl_;
};

}  // namespace

Result<std::unique_ptr<engine::SystemConnector>> OpenHttpsSystem(const policy::System& system,
                                                                 const std::string& connection) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  ASSIGN_OR_RETURN(Options options, ParseConnection(system.key, connection));
  return std::unique_ptr<engine::SystemConnector>(
      std::make_unique<HttpsSystem>(system, std::move(options)));
}

void ReconfigureHttpsSystem(engine::SystemConnector& connector, const policy::System& system) {
  if (auto* https = dynamic_cast<HttpsSystem*>(&connector)) https->Reconfigure(system);
}

}  // namespace custos::connectors
