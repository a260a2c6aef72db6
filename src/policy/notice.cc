// The notice: composed from the policy once, then laid out in the format asked for.
#include "policy/notice.h"

#include "policy/notice_internal.h"

namespace custos::policy {

std::string RenderNotice(const Policy& policy, NoticeFormat format,
                         const NoticeTemplates& templates) {
  notice_internal::WordsInForce words(&templates.words);
  notice_internal::NoticeComposer composer(policy);
  notice_internal::Document doc = composer.Write();
  return notice_internal::WriteNotice(doc, policy, templates, format, composer.Title(),
                                      composer.ControllerName(), composer.NoticeDate());
}

}  // namespace custos::policy
