// Bulk import over HTTP, end to end: the real server started with --import-mappings, fed a JSON
// Lines export far over --max-body with chunked transfer encoding, followed from another
// connection while the body is still arriving, and refusing a request on its head without
// waiting for a body it will not read.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "e2e/server_fixture.h"

namespace custos {
namespace {

using namespace e2e;

// A connection to the server on which the test writes a request by hand.
class Connection {
 public:
  explicit Connection(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{30, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Connection() { close(fd_); }
  bool connected() const { return connected_; }
  bool Write(const std::string& text) { return SendAll(fd_, text); }
  // One chunk of a chunked body.
  bool Chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return Write(size + data + "\r\n");
  }
  // Reads the answer to its end (the request asked for Connection: close).
  Reply Read() { return ReadReply(fd_); }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string Head(const std::string& token, const std::string& framing) {
  return "POST /v1/imports?mapping=wig_crm HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
         "Authorization: Bearer " +
         token + "\r\nContent-Type: application/x-ndjson\r\n" + framing + "\r\n";
}

// Row `i` of a generated CRM export (tests/fixtures/import/wig_crm.yaml's columns).
std::string Row(int i) {
  return R"({"crm_id": ")" + std::to_string(i) +
         R"(", "kind": "member", "joined": "2019-05-05", "email": "streamed.person)" +
         std::to_string(i) + R"(@example.test", "name": "Streamed Person", "job": "Analyst"})" +
         "\n";
}

int64_t Number(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::atoll(json.c_str() + at + key.size() + 3);
}

class ImportE2eTest : public ServerE2eTest {
 protected:
  void StartWithMappings() {
    fs::create_directories(dir_ / "mappings");
    fs::copy_file(fs::path(CUSTOS_SOURCE_DIR) / "tests/fixtures/import/wig_crm.yaml",
                  dir_ / "mappings/wig_crm.yaml");
    Start({"--import-mappings", (dir_ / "mappings").string(), "--max-body", "65536"});
  }
};

TEST_F(ImportE2eTest, AnExportFarOverMaxBodyIsStreamedInAndFollowedWhileItArrives) {
  StartWithMappings();
  constexpr int kRows = 6000;  // about 780 KB: twelve times --max-body
  std::string first, second;
  for (int i = 1; i <= kRows; ++i) (i <= kRows / 2 ? first : second) += Row(i);
  Connection upload(port_);
  ASSERT_TRUE(upload.connected());
  ASSERT_TRUE(upload.Write(Head(admin_, "Transfer-Encoding: chunked\r\n")));
  // Half the export, in chunks of 16 KiB; the server imports what it has while waiting for more.
  for (size_t at = 0; at < first.size(); at += 16384) {
    ASSERT_TRUE(upload.Chunk(first.substr(at, 16384)));
  }
  // Followed from another connection: running, some rows in, not all.
  std::string id, job;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    Reply list = Send(port_, "GET", "/v1/imports", "", admin_);
    ASSERT_EQ(list.status, 200) << list.body;
    id = Field(list.body, "import_id");
    if (!id.empty() && Number(list.body, "imported") > 0) {
      job = Send(port_, "GET", "/v1/imports/" + id, "", admin_).body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(job.empty()) << "no rows imported while the body was still arriving";
  EXPECT_EQ(Field(job, "state"), "running") << job;
  EXPECT_LT(Number(job, "rows"), kRows) << job;
  for (size_t at = 0; at < second.size(); at += 16384) {
    ASSERT_TRUE(upload.Chunk(second.substr(at, 16384)));
  }
  ASSERT_TRUE(upload.Write("0\r\n\r\n"));
  Reply done = upload.Read();
  ASSERT_EQ(done.status, 201) << done.headers << done.body;
  EXPECT_EQ(Number(done.body, "rows"), kRows) << done.body;
  EXPECT_EQ(Number(done.body, "imported"), kRows) << done.body;
  EXPECT_EQ(Number(done.body, "rejected"), 0) << done.body;
  EXPECT_NE(done.headers.find("Location: /v1/imports/" + id), std::string::npos) << done.headers;
  EXPECT_EQ(Field(Send(port_, "GET", "/v1/imports/" + id, "", admin_).body, "state"), "done");
  // The imported people are the engine's: found by their address, decided on.
  Reply found = Send(port_, "POST", "/v1/identifiers/lookup",
                     R"({"kind":"email","value":"streamed.person4321@example.test"})", admin_);
  EXPECT_EQ(found.status, 200) << found.body;

  // The same export again, with a declared length this time: everyone is skipped.
  Connection again(port_);
  ASSERT_TRUE(again.connected());
  ASSERT_TRUE(again.Write(
      Head(admin_, "Content-Length: " + std::to_string(first.size() + second.size()) + "\r\n") +
      first + second));
  Reply skipped = again.Read();
  ASSERT_EQ(skipped.status, 201) << skipped.body;
  EXPECT_EQ(Number(skipped.body, "imported"), 0) << skipped.body;
  EXPECT_EQ(Number(skipped.body, "skipped"), kRows) << skipped.body;
  // No personal value of the export reached the server's log.
  EXPECT_EQ(Logs().find("streamed.person"), std::string::npos);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(ImportE2eTest, ARefusedImportIsAnsweredWithoutWaitingForItsBody) {
  StartWithMappings();
  int code = 0;
  std::string staff = RunCustos(
      {"--data", data_, "token", "create", "--role", "staff", "--purpose", "newsletter"}, &code);
  ASSERT_EQ(code, 0);
  while (!staff.empty() && staff.back() == '\n') staff.pop_back();
  // A body of 100 MB is declared and never sent: the answer comes from the head alone.
  Connection refused(port_);
  ASSERT_TRUE(refused.connected());
  ASSERT_TRUE(refused.Write(Head(staff, "Content-Length: 100000000\r\n")));
  auto start = std::chrono::steady_clock::now();
  Reply reply = refused.Read();
  EXPECT_EQ(reply.status, 403) << reply.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(Send(port_, "GET", "/v1/imports", "", staff).status, 403);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(ImportE2eTest, AMistakeInAMappingStopsTheStartWithItsFileAndLine) {
  // The fixtures' directory holds a mapping naming a purpose WIG's policy does not have.
  int code = 0;
  std::string out = RunProgram("/bin/sh",
                               {"-c", std::string(CUSTOS_BINARY) + " --data " + data_ +
                                          " serve --listen 127.0.0.1:0 --import-mappings " +
                                          CUSTOS_SOURCE_DIR + "/tests/fixtures/import 2>&1"},
                               &code);
  EXPECT_NE(code, 0);
  EXPECT_EQ(out.find("listening"), std::string::npos) << out;
  EXPECT_NE(out.find("wig_bad_purpose.yaml:6:"), std::string::npos) << out;
  EXPECT_NE(out.find("UNKNOWN_PURPOSE"), std::string::npos) << out;
}

}  // namespace
}  // namespace custos
