// A third-party application end to end, against the real server and the CLI beside it.
// ProgressTeaching (001), platform statement: "Before we allow Third Party Applications to access
// school data, schools must authorise the requests to connect to their data and review the type
// of data that an application is requesting. These permissions can be revoked at any time by the
// school." The school's DPO authorises an application with the CLI while the server runs; the
// server honours the new token at once and refuses it within a second of its revocation.
#include <chrono>
#include <string>
#include <thread>

#include "e2e/server_fixture.h"

namespace custos {
namespace {

using namespace e2e;

class ApplicationE2eTest : public ServerE2eTest {
 protected:
  std::string PolicyFile() const override { return "progressteaching_schools.yaml"; }
};

TEST_F(ApplicationE2eTest, AnApplicationAuthorisedBesideTheServerIsRefusedOnceRevoked) {
  Start();
  Reply pupil = Send(port_, "POST", "/v1/subjects", R"({"id":"p1","types":["pupil"]})", admin_);
  ASSERT_EQ(pupil.status, 201) << pupil.body;
  Reply record = Send(port_, "POST", "/v1/subjects/p1/records",
                      R"({"category":"user.childrens.school_records","value":"Reading age 11",)"
                      R"("source":"school","purpose":"school_legal_obligation"})",
                      admin_);
  ASSERT_EQ(record.status, 201) << record.body;

  int code = 0;
  std::string out =
      RunCustos({"--data", data_, "application", "authorise", "Homework Planner", "--recipient",
                 "third_party_applications", "--purpose", "school_legal_obligation", "--category",
                 "user.childrens.school_records", "--expires", "2099-01-01"},
                &code);
  ASSERT_EQ(code, 0) << out;
  const std::string id = out.substr(12, 16);
  std::string token = out.substr(out.find('\n') + 1);
  while (!token.empty() && token.back() == '\n') token.pop_back();

  const std::string ask = R"({"subject_id":"p1","purpose":"school_legal_obligation",)"
                          R"("categories":["user.childrens.school_records"]})";
  Reply allowed = Send(port_, "POST", "/v1/decisions", ask, token);
  ASSERT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_NE(allowed.body.find("\"allow\":true"), std::string::npos) << allowed.body;
  Reply outside = Send(port_, "POST", "/v1/decisions",
                       R"({"subject_id":"p1","purpose":"school_legal_obligation",)"
                       R"("categories":["user.contact"]})",
                       token);
  EXPECT_EQ(outside.status, 403) << outside.body;
  EXPECT_NE(outside.body.find("OUTSIDE_APPLICATION_GRANT"), std::string::npos) << outside.body;
  // The application reads nothing else, and what it was given is in the pupil's record.
  EXPECT_EQ(Send(port_, "GET", "/v1/subjects/p1", "", token).status, 403);
  Reply listed = Send(port_, "GET", "/v1/applications", "", admin_);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find("\"name\":\"Homework Planner\""), std::string::npos) << listed.body;

  RunCustos({"--data", data_, "application", "revoke", id}, &code);
  ASSERT_EQ(code, 0);
  // The server looks at the token file at least once a second.
  int status = 200;
  const auto revoked_at = std::chrono::steady_clock::now();
  while (status == 200 && std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(5)) {
    status = Send(port_, "POST", "/v1/decisions", ask, token).status;
    if (status == 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 401);
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, std::chrono::milliseconds(2500));
  EXPECT_EQ(Stop(), 0);
  // Neither the value nor the token reaches the log.
  const std::string log = Logs();
  EXPECT_EQ(log.find("Reading age"), std::string::npos);
  EXPECT_EQ(log.find(token), std::string::npos);
}

}  // namespace
}  // namespace custos
