// What the import benchmarks share: a generated CRM export of WIG members (the columns of
// tests/fixtures/import/wig_crm.csv) and the CLI run over a deployment (SQLite: --data DIR;
// PostgreSQL: --data DIR --database URL --schema NAME), exactly as an operator runs it.
#ifndef CUSTOS_BENCH_IMPORT_EXPORT_H_
#define CUSTOS_BENCH_IMPORT_EXPORT_H_

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace custos::bench {

inline void WriteExport(const std::filesystem::path& path, size_t rows) {
  std::ofstream out(path);
  out << "crm_id,kind,joined,email,mobile,name,job,membership_ended,last_login,newsletter,"
         "newsletter_date,newsletter_form\n";
  for (size_t i = 1; i <= rows; ++i) {
    out << i << ",member,2015-03-01,p" << i << "@example.test,,Person " << i
        << ",Analyst,2020-01-01,,yes,2015-03-01,form-" << i << "\n";
  }
}

// Runs the CLI; prints its error when it fails.
inline int Cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = cli::RunCli(args, out, err);
  if (code != 0) std::fprintf(stderr, "custos: %s\n", err.str().c_str());
  return code;
}

// `deployment`: the options naming the deployment (--data DIR, and --database, --schema).
inline std::vector<std::string> ImportArgs(std::vector<std::string> deployment,
                                           const std::filesystem::path& csv, size_t batch) {
  for (std::string arg : {std::string("import"), std::string("--mapping"),
                          std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/import/wig_crm.yaml",
                          std::string("--batch"), std::to_string(batch), std::string("--progress"),
                          std::string("none"), csv.string()}) {
    deployment.push_back(std::move(arg));
  }
  return deployment;
}

inline void InitData(std::vector<std::string> deployment) {
  deployment.insert(deployment.end(),
                    {"init", "--policy", std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"});
  if (Cli(deployment) != 0) std::exit(1);
}

}  // namespace custos::bench

#endif  // CUSTOS_BENCH_IMPORT_EXPORT_H_
