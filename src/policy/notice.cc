// The notice: composed from the policy once, then written in the format asked for.
#include "policy/notice.h"

#include "policy/notice_internal.h"

namespace custos::policy {

std::string RenderNotice(const Policy& policy, NoticeFormat format) {
  notice_internal::NoticeComposer composer(policy);
  notice_internal::Document doc = composer.Write();
  if (format == NoticeFormat::kHtml) return notice_internal::ToHtml(doc, composer.Title());
  return notice_internal::ToMarkdown(doc) + "\n";
}

}  // namespace custos::policy
