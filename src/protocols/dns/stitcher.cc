#include "protocols/dns/stitcher.h"

#include <string>

#include "protocols/text.h"

namespace reel::protocols::dns {

namespace {

std::string render_record(const Record& rr) {
  return rr.name + " " + std::to_string(rr.ttl) + " " + type_name(rr.type) + " " + rr.data;
}

void fill_request(const Message& q, Exchange& e) {
  e.has_request = true;
  e.gap = e.gap || q.after_gap;
  e.request_time = q.time;
  e.request_size = q.wire_size;
  if (!q.questions.empty()) {
    e.method = type_name(q.questions[0].type);
    e.target = q.questions[0].name;
  }
  e.fields["dns.id"] = std::to_string(q.id);
  if (q.malformed) e.fields["dns.request_malformed"] = "true";
}

void fill_response(const Message& r, Exchange& e, const Limits& limits) {
  e.has_response = true;
  e.gap = e.gap || r.after_gap;
  e.response_time = r.time;
  e.response_size = r.wire_size;
  if (e.method.empty() && !r.questions.empty()) {
    e.method = type_name(r.questions[0].type);
    e.target = r.questions[0].name;
  }
  e.status = r.rcode;
  e.status_text = rcode_name(r.rcode);
  if (r.rcode != 0) e.error = e.status_text;
  for (const Record& rr : r.answers)
    e.response_body.append(render_record(rr) + "\n", limits.max_body);
  e.fields["dns.id"] = std::to_string(r.id);
  e.fields["dns.answers"] = std::to_string(r.counts[1]);
  if (r.truncated) e.fields["dns.truncated"] = "true";
  if (r.malformed) e.fields["dns.response_malformed"] = "true";
}

void emit(const Message* q, const Message* r, const Limits& limits, std::vector<Exchange>& out) {
  Exchange e;
  e.protocol = Protocol::kDns;
  if (q) fill_request(*q, e);
  if (r) fill_response(*r, e, limits);
  e.finish_timing();
  out.push_back(std::move(e));
}

bool answers(const Message& q, const Message& r) {
  if (q.id != r.id) return false;
  if (q.questions.empty() || r.questions.empty()) return true;
  return iequals(q.questions[0].name, r.questions[0].name) &&
         q.questions[0].type == r.questions[0].type;
}

}  // namespace

void stitch(std::deque<Message>& requests, std::deque<Message>& responses, StitchState&,
            const Limits& limits, bool flush, std::vector<Exchange>& out) {
  for (auto r = responses.begin(); r != responses.end();) {
    auto q = requests.begin();
    while (q != requests.end() && !answers(*q, *r)) ++q;
    if (q == requests.end()) {
      ++r;
      continue;
    }
    emit(&*q, &*r, limits, out);
    requests.erase(q);
    r = responses.erase(r);
  }
  // Unmatched answers and unanswered queries wait for their partner until flush or crowding.
  while (!responses.empty() && (flush || responses.size() > limits.max_pending)) {
    emit(nullptr, &responses.front(), limits, out);
    responses.pop_front();
  }
  while (!requests.empty() && (flush || requests.size() > limits.max_pending)) {
    emit(&requests.front(), nullptr, limits, out);
    requests.pop_front();
  }
}

}  // namespace reel::protocols::dns
