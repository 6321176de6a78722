#include "probe.h"

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace ct::gpu {
namespace {

// One host query per (vendor, key, process): started on a detached thread so that a hung driver
// bounds only the wait, never the caller or the process's exit.
struct HostQuery {
  std::mutex mutex;
  std::condition_variable done_signal;
  bool done = false;
  VendorReport result;
};

struct HostQueryCache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<HostQuery>> queries;  // key: vendor + its host key
};

// Leaked on purpose: a detached query thread may outlive static destruction at exit.
HostQueryCache* g_cache = nullptr;
std::once_flag g_cache_once;

HostQueryCache& cache() {
  std::call_once(g_cache_once, [] {
    g_cache = new HostQueryCache();
    // After fork the child has neither the parent's threads nor usable driver sessions: it
    // starts over with a fresh cache (the old one, whose mutex may be held, is abandoned).
    pthread_atfork(nullptr, nullptr, [] { g_cache = new HostQueryCache(); });
  });
  return *g_cache;
}

std::shared_ptr<HostQuery> start_host_query(const Vendor& vendor, const GpuOptions& options) {
  HostQueryCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  std::string key = std::string(vendor.name()) + '\n' + vendor.host_key(options);
  auto found = c.queries.find(key);
  if (found != c.queries.end()) return found->second;
  auto query = std::make_shared<HostQuery>();
  c.queries.emplace(key, query);
  std::thread([query, &vendor, options] {  // vendors live for the process
    VendorReport host = vendor.query_host(options);
    std::lock_guard<std::mutex> done_lock(query->mutex);
    query->result = std::move(host);
    query->done = true;
    query->done_signal.notify_all();
  }).detach();
  return query;
}

VendorReport timed_out(const Vendor& vendor, unsigned timeout_ms) {
  VendorReport report;
  report.vendor = vendor.name();
  report.driver_present = true;  // a library is being asked, and has not answered
  report.unavailable_code = std::string(vendor.code_prefix()) + "_TIMEOUT";
  report.unavailable_reason = std::string(vendor.library_title()) + " did not answer within " +
                              std::to_string(timeout_ms) + " ms (still trying)";
  return report;
}

}  // namespace

std::optional<std::string> GpuOptions::setting(const std::string& name) const {
  auto found = settings.find(name);
  if (found == settings.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

std::optional<std::string> GpuOptions::variable(const std::string& name) const {
  auto found = environment.find(name);
  if (found == environment.end()) return std::nullopt;
  return found->second;  // set but empty is an answer ("hide every GPU")
}

void explain_unavailable(GpuReport& report) {
  report.unavailable_code.clear();
  report.unavailable_reason.clear();
  for (const VendorReport& vendor : report.vendors) {
    if (!vendor.visible.empty()) return;
  }
  bool any_present = false;
  for (const VendorReport& vendor : report.vendors) any_present = any_present || vendor.driver_present;
  for (const VendorReport& vendor : report.vendors) {
    if ((any_present && !vendor.driver_present) || vendor.unavailable_reason.empty()) continue;
    if (report.unavailable_code.empty()) report.unavailable_code = vendor.unavailable_code;
    if (!report.unavailable_reason.empty()) report.unavailable_reason += "; ";
    report.unavailable_reason += vendor.unavailable_reason;
  }
  if (report.unavailable_code.empty()) {
    report.unavailable_code = "NO_GPU";
    report.unavailable_reason = "no GPU found";
  }
}

GpuReport probe_gpus(const GpuOptions& options) {
  GpuReport report;
  // Every vendor's query starts at once; each is waited for until the same deadline.
  std::vector<std::shared_ptr<HostQuery>> queries;
  for (const auto& vendor : vendors()) queries.push_back(start_host_query(*vendor, options));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const Vendor& vendor = *vendors()[i];
    HostQuery& query = *queries[i];
    std::unique_lock<std::mutex> lock(query.mutex);
    if (!query.done_signal.wait_until(lock, deadline, [&] { return query.done; })) {
      report.vendors.push_back(timed_out(vendor, options.timeout_ms));
      continue;
    }
    VendorReport vendor_report = query.result;
    lock.unlock();
    if (vendor_report.unavailable_code.empty()) vendor.select_visible(vendor_report, options);
    report.vendors.push_back(std::move(vendor_report));
  }
  explain_unavailable(report);
  return report;
}

}  // namespace ct::gpu
