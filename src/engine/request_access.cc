// Engine: the rights of access (Article 15) and to data portability (Article 20) in a request.
// At fulfilment the package (engine/access_package.h) is built from audited reads of every
// subject the request reaches and kept sealed with the request; RequestDocument hands it to the
// person until the request's personal parts are shredded.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "crypto/sealing.h"
#include "engine/access_package.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::GetString;
using internal::Join;
using internal::Str;
using internal::Writer;

}  // namespace

// Access and portability: one package for all the subjects the request reaches.
Status Engine::FulfilAccess(const store::RequestRow& row, Timestamp at, const std::string& actor,
                            internal::Fulfilment& work) {
  const std::string& request_id = row.request_id;
  std::string& result_json = work.result_json;
  std::string& summary = work.summary;

  std::vector<SubjectView> views;
  for (const auto& subject_id : row.subject_ids) {
    auto view = ReadSubject(subject_id, actor, "rights_request:" + request_id);
    if (view.status().code() == ErrorCode::kSubjectErased) continue;
    if (!view.ok()) return view.status();
    views.push_back(std::move(*view));
  }
  std::vector<SystemRows> systems;
  RETURN_IF_ERROR(GatherFromSystems(row, at, actor, systems));
  PackageMeta meta{request_id, row.received_at, at};
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  if (row.type == "access") {
    AccessPackage package = BuildAccessPackage(policy_, meta, views, systems);
    Str(w, "json", package.json);
    Str(w, "html", package.html);
  } else {
    PortabilityExport exported = BuildPortabilityExport(policy_, meta, views, systems);
    Str(w, "json", exported.json);
    Str(w, "csv", exported.csv);
  }
  w.EndObject();
  result_json = buffer.GetString();
  summary = std::to_string(views.size()) + " subject(s) packaged";
  for (const auto& system : systems) {
    size_t rows = 0;
    for (const auto& dataset : system.datasets) rows += dataset.rows.size();
    summary += system.searched ? "; " + std::to_string(rows) + " row(s) from " + system.name
                               : "; " + system.name + " left out";
  }
  return Status::Ok();
}

Result<std::string> Engine::RequestDocument(const std::string& request_id,
                                            const std::string& format, const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  if (row.sealed_result.empty()) {
    return Status(ErrorCode::kNotFound, "request " + request_id + " has no document to download");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(std::string json,
                   crypto::Open(key, row.sealed_result, RequestKeyContext(request_id) + "/result"));
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status(ErrorCode::kInternal, "request result does not parse");
  }
  std::string document = GetString(doc, format.c_str());
  if (document.empty()) {
    return Status(ErrorCode::kNotFound,
                  "request " + request_id + " has no " + format + " document");
  }
  audit_.Record(Entry(actor, "request_document", Join(row.subject_ids), clock_.Now(),
                      request_id + " " + format));
  RETURN_IF_ERROR(audit_.Flush());
  return document;
}

}  // namespace custos::engine
