// A mailing tool's REST API, served over TLS on 127.0.0.1 (tests/fixtures/tls) for the HTTPS
// connector's tests: the service an organisation's policy reaches through a `kind: https` system
// (policies/systems/pluggin_mailer.yaml). Its documented API:
//   GET    /v1/subscribers?email=E        {"data": [{"id", "email"}...]}: a loose search (every
//                                         address containing E, in any case), as many services do
//   GET    /v1/subscribers/ID             the whole subscriber, 404 when there is none
//   PATCH  /v1/subscribers/ID             sets the members of the JSON object sent (null empties)
//   DELETE /v1/subscribers/ID             204, or 404 when there is none
//   GET    /v1/subscribers?before=D&after=A&limit=N
//                                         {"data": [...], "meta": {"total": T}}: subscribers after
//                                         id A in id order, N at most. It ignores `before` (a
//                                         coarse service: custos must check the dates itself)
//   GET    /v1/activity?subscriber_id=S   {"data": [...]}: opens and clicks of subscriber S
//   GET    /v1/activity?before=...        as for subscribers
//   DELETE /v1/activity/ID
// Every call needs "Authorization: Bearer <token()>", else 401. Fail(status) makes it answer
// every call with that status.
#ifndef CUSTOS_TESTS_CONNECTORS_MAILING_SERVICE_H_
#define CUSTOS_TESTS_CONNECTORS_MAILING_SERVICE_H_

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace custos::testing_support {

class MailingService {
 public:
  using Row = std::map<std::string, std::optional<std::string>>;  // member -> value (null)

  MailingService() {
    const std::string tls = std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/tls/";
    key_ = Read(tls + "key.pem");
    cert_ = Read(tls + "cert.pem");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = 0;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, nullptr, nullptr,
                         &OnRequest, this, MHD_OPTION_SOCK_ADDR, &address, MHD_OPTION_HTTPS_MEM_KEY,
                         key_.c_str(), MHD_OPTION_HTTPS_MEM_CERT, cert_.c_str(),
                         MHD_OPTION_NOTIFY_COMPLETED, &OnCompleted, nullptr, MHD_OPTION_END);
    if (daemon_ != nullptr) port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~MailingService() { Stop(); }
  void Stop() {
    if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
  }
  bool ok() const { return daemon_ != nullptr; }
  std::string token() const { return "mt-token-5f1d"; }
  std::string CaFile() const {
    return std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/tls/cert.pem";
  }
  // The connection string custos is given (kept in an environment variable or a file).
  std::string Connection() const {
    return "url=https://127.0.0.1:" + std::to_string(port_) + "/v1 token=" + token() +
           " ca=" + CaFile();
  }
  uint16_t port() const { return port_; }

  void AddSubscriber(const std::string& id, Row row) {
    std::lock_guard lock(mutex_);
    row["id"] = id;
    subscribers_[id] = std::move(row);
  }
  void AddActivity(const std::string& id, Row row) {
    std::lock_guard lock(mutex_);
    row["id"] = id;
    activity_[id] = std::move(row);
  }
  std::map<std::string, Row> subscribers() const {
    std::lock_guard lock(mutex_);
    return subscribers_;
  }
  std::map<std::string, Row> activity() const {
    std::lock_guard lock(mutex_);
    return activity_;
  }
  // "METHOD path" of each call received, and the bodies of PATCH calls.
  std::vector<std::string> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  void Fail(int status) {
    std::lock_guard lock(mutex_);
    fail_ = status;
  }

 private:
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static std::string Json(const std::vector<const Row*>& rows, std::optional<size_t> total) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("data");
    w.StartArray();
    for (const Row* row : rows) {
      w.StartObject();
      for (const auto& [name, value] : *row) {
        w.Key(name.c_str());
        value ? w.String(value->c_str()) : w.Null();
      }
      w.EndObject();
    }
    w.EndArray();
    if (total) {
      w.Key("meta");
      w.StartObject();
      w.Key("total");
      w.Uint64(*total);
      w.EndObject();
    }
    w.EndObject();
    return buffer.GetString();
  }

  static bool Contains(const std::string& text, const std::string& part) {
    auto lower = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    return lower(text).find(lower(part)) != std::string::npos;
  }

  // Answers one call; `body` is the request's body.
  std::pair<int, std::string> Handle(MHD_Connection* connection, const std::string& method,
                                     const std::string& path, const std::string& body) {
    std::lock_guard lock(mutex_);
    calls_.push_back(method + " " + path);
    if (fail_ != 0) return {fail_, "{\"error\":\"unavailable\"}"};
    const char* auth =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth == nullptr || std::string(auth) != "Bearer " + token()) {
      return {401, "{\"error\":\"unauthorised\"}"};
    }
    auto arg = [&](const char* name) -> std::optional<std::string> {
      const char* v = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, name);
      return v == nullptr ? std::nullopt : std::optional<std::string>(v);
    };
    std::map<std::string, Row>* table = nullptr;
    std::string rest;
    for (auto [prefix, rows] : {std::pair{std::string("/v1/subscribers"), &subscribers_},
                                std::pair{std::string("/v1/activity"), &activity_}}) {
      if (path.rfind(prefix, 0) == 0) {
        table = rows;
        rest = path.substr(prefix.size());
      }
    }
    if (table == nullptr) return {404, "{}"};
    if (rest.empty() && method == "GET") {
      std::vector<const Row*> out;
      if (auto limit = arg("limit")) {  // a list
        std::string after = arg("after").value_or("");
        for (const auto& [id, row] : *table) {
          if (id > after && out.size() < std::stoul(*limit)) out.push_back(&row);
        }
        return {200, Json(out, table->size())};
      }
      std::vector<Row> partial;  // a search answers only each row's id and address
      for (const auto& [id, row] : *table) {
        if (auto email = arg("email")) {
          auto held = row.find("email");
          if (held != row.end() && held->second && Contains(*held->second, *email)) {
            partial.push_back({{"id", id}, {"email", held->second}});
          }
        } else if (auto subscriber = arg("subscriber_id")) {
          auto held = row.find("subscriber_id");
          if (held != row.end() && held->second == *subscriber) out.push_back(&row);
        }
      }
      for (const auto& row : partial) out.push_back(&row);
      return {200, Json(out, std::nullopt)};
    }
    if (rest.size() < 2 || rest[0] != '/') return {404, "{}"};
    auto row = table->find(rest.substr(1));
    if (row == table->end()) return {404, "{\"error\":\"not found\"}"};
    if (method == "GET") {
      std::string one = Json({&row->second}, std::nullopt);
      // {"data":[X]} -> X
      return {200, one.substr(9, one.size() - 11)};
    }
    if (method == "DELETE") {
      table->erase(row);
      return {204, ""};
    }
    if (method == "PATCH") {
      bodies_.push_back(body);
      rapidjson::Document d;
      d.Parse(body.c_str());
      if (d.HasParseError() || !d.IsObject()) return {400, "{}"};
      for (const auto& m : d.GetObject()) {
        row->second[m.name.GetString()] =
            m.value.IsNull() ? std::nullopt : std::optional<std::string>(m.value.GetString());
      }
      return {200, "{}"};
    }
    return {405, "{}"};
  }

  static MHD_Result OnRequest(void* self, MHD_Connection* connection, const char* url,
                              const char* method, const char*, const char* upload_data,
                              size_t* upload_data_size, void** state) {
    if (*state == nullptr) {
      *state = new std::string;
      return MHD_YES;
    }
    auto* body = static_cast<std::string*>(*state);
    if (*upload_data_size > 0) {
      body->append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    auto [status, text] =
        static_cast<MailingService*>(self)->Handle(connection, method, url, *body);
    MHD_Response* response =
        MHD_create_response_from_buffer(text.size(), text.data(), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(response, "Content-Type", "application/json");
    MHD_Result result = MHD_queue_response(connection, static_cast<unsigned>(status), response);
    MHD_destroy_response(response);
    return result;
  }
  static void OnCompleted(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
    delete static_cast<std::string*>(*state);
    *state = nullptr;
  }

  std::string key_, cert_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, Row> subscribers_, activity_;
  std::vector<std::string> calls_, bodies_;
  int fail_ = 0;
};

}  // namespace custos::testing_support

#endif  // CUSTOS_TESTS_CONNECTORS_MAILING_SERVICE_H_
