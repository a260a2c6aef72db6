// The connectors to the organisation's own systems (src/connectors/), each against the real
// thing: an SQLite file the test makes, the PostgreSQL test cluster (ctest's `postgres`
// fixture, CUSTOS_TEST_DATABASE_URL) in a schema of the test's own, and the throwaway MariaDB
// server the same fixture starts (scripts/mariadb-test-server.sh) in a database of its own.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <mysql.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "connectors/mysql_system.h"
#include "connectors/postgres_system.h"
#include "connectors/sqlite_system.h"
#include "connectors/system_connectors.h"
#include "policy/systems.h"

namespace custos::connectors {
namespace {

using engine::RowChange;
using engine::SystemConnector;
using engine::SystemRow;

// The same tables on either backend; `schema` qualifies their names.
std::string Schema(const std::string& s) {
  return "CREATE TABLE " + s +
         ".people (id INTEGER PRIMARY KEY, email TEXT, name TEXT, "
         "left_on DATE);"
         "CREATE TABLE " +
         s +
         ".orders (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL, "
         "amount INTEGER NOT NULL);";
}

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string Table(const std::string& name) const = 0;
  virtual void Exec(const std::string& sql) = 0;
  virtual Result<std::unique_ptr<SystemConnector>> Connect() = 0;
  // Ends the connector's connections from the server's side (a restart, a network cut).
  virtual void DropConnections() {}
};

class SqliteBackend : public Backend {
 public:
  SqliteBackend() {
    path_ = std::filesystem::temp_directory_path() /
            ("custos-connector-" + std::to_string(::getpid()) + ".sqlite");
    std::filesystem::remove(path_);
    sqlite3_open(path_.c_str(), &db_);
    Exec(Schema("main"));
  }
  ~SqliteBackend() override {
    sqlite3_close(db_);
    std::filesystem::remove(path_);
  }
  std::string Table(const std::string& name) const override { return "main." + name; }
  void Exec(const std::string& sql) override {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "") << "\n"
        << sql;
  }
  Result<std::unique_ptr<SystemConnector>> Connect() override {
    return OpenSqliteSystem("crm", path_.string());
  }

 private:
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

class PostgresBackend : public Backend {
 public:
  PostgresBackend() {
    const char* url = std::getenv("CUSTOS_TEST_DATABASE_URL");
    if (url == nullptr) return;
    url_ = url;
    conn_ = PQconnectdb(url);
    schema_ = "crm_" + std::to_string(::getpid());
    Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_ + ";" +
         Schema(schema_));
  }
  ~PostgresBackend() override {
    if (conn_ == nullptr) return;
    Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    PQfinish(conn_);
  }
  bool available() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }
  std::string Table(const std::string& name) const override { return schema_ + "." + name; }
  void Exec(const std::string& sql) override {
    PGresult* result = PQexec(conn_, sql.c_str());
    EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << PQerrorMessage(conn_) << "\n" << sql;
    PQclear(result);
  }
  Result<std::unique_ptr<SystemConnector>> Connect() override {
    // Named, so that DropConnections ends this test's connection and no other.
    return OpenPostgresSystem("crm", url_ + (url_.find('?') == std::string::npos ? "?" : "&") +
                                         "application_name=" + schema_);
  }
  void DropConnections() override {
    PGresult* result = PQexec(
        conn_,
        ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
         schema_ + "'")
            .c_str());
    EXPECT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQerrorMessage(conn_);
    EXPECT_EQ(PQntuples(result), 1);
    PQclear(result);
  }

 private:
  std::string url_, schema_;
  PGconn* conn_ = nullptr;
};

class MysqlBackend : public Backend {
 public:
  MysqlBackend() {
    std::ifstream in(CUSTOS_TEST_MARIADB_CONNECTION);
    if (!std::getline(in, connection_)) return;
    database_ = "crm_" + std::to_string(::getpid());
    // host=H port=P user=U database=D: the test's own database instead of D.
    std::string host = "127.0.0.1";
    unsigned int port = 3306;
    std::istringstream words(connection_);
    for (std::string pair; words >> pair;) {
      if (pair.rfind("port=", 0) == 0) port = static_cast<unsigned int>(std::stoul(pair.substr(5)));
      if (pair.rfind("host=", 0) == 0) host = pair.substr(5);
    }
    conn_ = mysql_init(nullptr);
    if (mysql_real_connect(conn_, host.c_str(), "root", nullptr, nullptr, port, nullptr, 0) ==
        nullptr) {
      mysql_close(conn_);
      conn_ = nullptr;
      return;
    }
    Exec("DROP DATABASE IF EXISTS " + database_);
    Exec("CREATE DATABASE " + database_);
    Exec("CREATE TABLE " + database_ +
         ".people (id INTEGER PRIMARY KEY, email VARCHAR(200), name VARCHAR(200), left_on DATE)");
    Exec("CREATE TABLE " + database_ +
         ".orders (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL, amount INTEGER NOT NULL)");
    connection_ =
        "host=" + host + " port=" + std::to_string(port) + " user=root database=" + database_;
  }
  ~MysqlBackend() override {
    if (conn_ == nullptr) return;
    Exec("DROP DATABASE IF EXISTS " + database_);
    mysql_close(conn_);
  }
  bool available() const { return conn_ != nullptr; }
  std::string Table(const std::string& name) const override { return database_ + "." + name; }
  void Exec(const std::string& sql) override {
    // One statement at a time (the fixture's inserts come as "A; B").
    std::istringstream statements(sql);
    for (std::string one; std::getline(statements, one, ';');) {
      if (one.find_first_not_of(" \n") == std::string::npos) continue;
      EXPECT_EQ(mysql_query(conn_, one.c_str()), 0) << mysql_error(conn_) << "\n" << one;
    }
  }
  Result<std::unique_ptr<SystemConnector>> Connect() override {
    return OpenMysqlSystem("crm", connection_);
  }
  void DropConnections() override {
    // The connector's connection is the one whose database is this test's own.
    ASSERT_EQ(mysql_query(conn_, ("SELECT id FROM information_schema.processlist WHERE db = '" +
                                  database_ + "' AND id <> CONNECTION_ID()")
                                     .c_str()),
              0);
    MYSQL_RES* rows = mysql_store_result(conn_);
    ASSERT_NE(rows, nullptr);
    int killed = 0;
    while (MYSQL_ROW row = mysql_fetch_row(rows)) {
      EXPECT_EQ(mysql_query(conn_, (std::string("KILL ") + row[0]).c_str()), 0);
      ++killed;
    }
    mysql_free_result(rows);
    EXPECT_EQ(killed, 1);
  }

 private:
  std::string connection_, database_;
  MYSQL* conn_ = nullptr;
};

class ConnectorTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      backend_ = std::make_unique<SqliteBackend>();
    } else if (GetParam() == "mysql") {
      auto mysql = std::make_unique<MysqlBackend>();
      // Started by ctest with the PostgreSQL cluster (tests/CMakeLists.txt).
      ASSERT_TRUE(mysql->available()) << "no MariaDB test server (run through ctest)";
      backend_ = std::move(mysql);
    } else {
      auto pg = std::make_unique<PostgresBackend>();
      // The PostgreSQL cases run under ctest, which starts the cluster (tests/CMakeLists.txt).
      ASSERT_TRUE(pg->available()) << "no PostgreSQL test cluster (run through ctest)";
      backend_ = std::move(pg);
    }
    backend_->Exec("INSERT INTO " + T("people") +
                   " VALUES (1, 'ann@example.test', 'Ann', '2019-05-01'),"
                   " (2, 'bob@example.test', NULL, NULL), (3, 'cy@example.test', 'Cy', "
                   "'2024-01-10');"
                   "INSERT INTO " +
                   T("orders") + " VALUES (10, 1, 5), (11, 1, 7), (12, 2, 9);");
    auto connector = backend_->Connect();
    ASSERT_TRUE(connector.ok()) << connector.status().ToString();
    connector_ = std::move(*connector);
  }
  std::string T(const std::string& name) const { return backend_->Table(name); }

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<SystemConnector> connector_;
};

TEST_P(ConnectorTest, ColumnsAndRowCountsOfADeclaredTable) {
  auto columns = connector_->Columns(T("people"));
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  std::sort(columns->begin(), columns->end());
  EXPECT_EQ(*columns, (std::vector<std::string>{"email", "id", "left_on", "name"}));
  auto rows = connector_->CountRows(T("orders"));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, 3);
  EXPECT_EQ(connector_->Columns(T("nobody")).status().code(), ErrorCode::kNotFound);
}

TEST_P(ConnectorTest, SelectFindsRowsByAnyOfManyValuesAndReadsNullAsNull) {
  // 1,200 values: more than one IN list (sql_names.h kValuesPerQuery).
  std::vector<std::string> values;
  for (int i = 0; i < 1200; ++i) values.push_back("nobody" + std::to_string(i) + "@example.test");
  values.push_back("bob@example.test");
  values.insert(values.begin() + 600, "ann@example.test");
  auto rows = connector_->Select(T("people"), {"id", "name"}, "email", values);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  std::sort(rows->begin(), rows->end());
  EXPECT_EQ((*rows)[0], (SystemRow{"1", "Ann"}));
  EXPECT_EQ((*rows)[1], (SystemRow{"2", std::nullopt}));
  // Values are compared as the column's type: text keys find integer rows.
  auto orders = connector_->Select(T("orders"), {"id"}, "person_id", {"1"});
  ASSERT_TRUE(orders.ok()) << orders.status().ToString();
  EXPECT_EQ(orders->size(), 2u);
}

TEST_P(ConnectorTest, RowsBeforeACutoffComeInKeyOrderPageByPage) {
  backend_->Exec("INSERT INTO " + T("people") + " VALUES (4, 'd@example.test', 'D', '2010-01-01')");
  auto first = connector_->SelectBefore(T("people"), {"id"}, "left_on", "2020-01-01", "id", "", 1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0][0], "1");
  auto next = connector_->SelectBefore(T("people"), {"id"}, "left_on", "2020-01-01", "id", "1", 5);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0][0], "4");  // 3 left in 2024, 2 has no date: neither is due
}

TEST_P(ConnectorTest, ChangesApplyTogetherAndARetryFindsNothingLeftToDelete) {
  std::vector<RowChange> changes = {{"10", true, {}}, {"11", true, {}}};
  auto deleted = connector_->Apply(T("orders"), "id", changes);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 2);
  deleted = connector_->Apply(T("orders"), "id", changes);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 0);
  auto set = connector_->Apply(T("people"), "id",
                               {{"1", false, {{"name", std::nullopt}, {"email", "[erased]"}}}});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(*set, 1);
  auto rows = connector_->Select(T("people"), {"name", "email"}, "id", {"1"});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0], (SystemRow{std::nullopt, "[erased]"}));
}

TEST_P(ConnectorTest, AFailedChangeUndoesTheBatchAndItsErrorHoldsNoValue) {
  // The second change breaks NOT NULL (or the column's type): neither is kept.
  std::vector<RowChange> changes = {{"10", true, {}}, {"12", false, {{"amount", std::nullopt}}}};
  auto failed = connector_->Apply(T("orders"), "id", changes);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("system crm"), std::string::npos)
      << failed.status().message();
  auto left = connector_->CountRows(T("orders"));
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 3);
  // A value the database cannot take is not repeated in the error.
  auto typed = connector_->Apply(T("orders"), "id",
                                 {{"12", false, {{"person_id", "ann-secret@example.test"}}}});
  if (!typed.ok()) {
    EXPECT_EQ(typed.status().message().find("ann-secret"), std::string::npos)
        << typed.status().message();
  }
  auto lookup = connector_->Select(T("people"), {"id"}, "id", {"not-a-number-ann@example.test"});
  if (!lookup.ok()) {
    EXPECT_EQ(lookup.status().message().find("ann@"), std::string::npos)
        << lookup.status().message();
  }
}

// A server restart or a cut network costs at most one UNAVAILABLE answer, never a wrong one: the
// connector connects again by itself.
TEST_P(ConnectorTest, AConnectionTheServerDroppedIsMadeAgain) {
  if (GetParam() == "sqlite") GTEST_SKIP() << "a file has no connection to lose";
  ASSERT_TRUE(connector_->CountRows(T("people")).ok());
  backend_->DropConnections();
  auto first = connector_->CountRows(T("people"));
  if (first.ok()) {
    EXPECT_EQ(*first, 3);
  } else {
    EXPECT_EQ(first.status().code(), ErrorCode::kUnavailable) << first.status().ToString();
  }
  auto again = connector_->CountRows(T("people"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConnectorTest, ::testing::Values("sqlite", "postgres", "mysql"),
                         [](const auto& info) { return info.param; });

TEST(Connectors, AnUnreachableSystemIsUnavailableAndItsConnectionIsNeverShown) {
  auto sqlite = OpenSqliteSystem("crm", "/nonexistent/dir/crm.sqlite");
  EXPECT_EQ(sqlite.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(sqlite.status().message().find("nonexistent"), std::string::npos);
  auto pg = OpenPostgresSystem(
      "crm", "host=127.0.0.1 port=1 user=crm password=s3cret-pw dbname=crm connect_timeout=2");
  EXPECT_EQ(pg.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(pg.status().message().find("s3cret"), std::string::npos) << pg.status().message();
  EXPECT_NE(pg.status().message().find("crm"), std::string::npos);
  auto mysql =
      OpenMysqlSystem("crm", "host=127.0.0.1 port=1 user=crm password=s3cret-pw database=crm");
  EXPECT_EQ(mysql.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(mysql.status().message().find("s3cret"), std::string::npos);
  auto typo = OpenMysqlSystem("crm", "host=127.0.0.1 passwd=s3cret-pw database=crm");
  EXPECT_EQ(typo.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(typo.status().message().find("s3cret"), std::string::npos) << typo.status().message();
}

TEST(Connectors, ConnectionsComeFromTheEnvironmentOrAFileInTheDataDirectory) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("custos-connections-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    sqlite3* db = nullptr;
    sqlite3_open((dir / "crm.sqlite").c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE people (id INTEGER PRIMARY KEY)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    std::ofstream((dir / "crm.conn").string()) << (dir / "crm.sqlite").string() << "\n";
  }
  policy::System from_file;
  from_file.key = "crm";
  from_file.kind = policy::SystemKind::kSqlite;
  from_file.connection.file = "crm.conn";
  PolicySystemConnectors connectors(dir.string());
  auto opened = connectors.Open(from_file);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE((*opened)->Columns("people").ok());
  // Opened once and kept.
  EXPECT_EQ(*connectors.Open(from_file), *opened);

  policy::System from_env = from_file;
  from_env.key = "mailing";
  from_env.connection = {"CUSTOS_TEST_UNSET_CONNECTION", "", {}};
  ::unsetenv("CUSTOS_TEST_UNSET_CONNECTION");
  auto missing = connectors.Open(from_env);
  EXPECT_EQ(missing.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(missing.status().message().find("CUSTOS_TEST_UNSET_CONNECTION"), std::string::npos);
  ::setenv("CUSTOS_TEST_UNSET_CONNECTION", (dir / "crm.sqlite").c_str(), 1);
  EXPECT_TRUE(connectors.Open(from_env).ok());
  ::unsetenv("CUSTOS_TEST_UNSET_CONNECTION");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace custos::connectors
