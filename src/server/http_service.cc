#include "server/http_service.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <nlohmann/json.hpp>

#include "server/http_codec.h"
#include "server/http_connection_pool.h"
#include "server/http_status.h"
#include "server/log.h"

namespace seam::server {
namespace {

using httplib::Request;
using httplib::Response;
using HandlerResponse = httplib::Server::HandlerResponse;

constexpr const char* kJson = "application/json";
// {model}[/versions/{version}]: matches[1] and matches[2].
const std::string kModelPath = R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)";

void Reply(Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), kJson);
}

void ReplyError(Response& res, const Status& status) {
  Reply(res, ToHttpStatus(status), ErrorJson(status.message()));
}

std::string ModelName(const Request& req) { return req.matches[1].str(); }
std::string Version(const Request& req) {
  return req.matches.size() > 2 ? req.matches[2].str() : std::string();
}

// Liveness and readiness are probed by orchestrators without credentials.
bool IsOpen(const std::string& path) {
  return path == "/v2/health/live" || path == "/v2/health/ready";
}

// When this thread started on its current request. cpp-httplib runs a request from routing to
// logging on one connection thread, so the pre-routing handler sets it and the logger reads it;
// it is zero for a request that failed to parse (the pre-routing handler never saw it).
thread_local std::chrono::steady_clock::time_point request_start{};

void AccessLog(const Request& req, const Response& res) {
  int64_t duration_us = -1;
  if (request_start != std::chrono::steady_clock::time_point{}) {
    duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - request_start)
                      .count();
    request_start = {};
  }
  const auto level = res.status >= 500   ? spdlog::level::warn
                     : res.status >= 400 ? spdlog::level::info
                                         : spdlog::level::debug;
  if (!spdlog::should_log(level)) return;
  spdlog::log(level,
              "event=http_request method={} path={} status={} remote={}:{} bytes_in={} "
              "bytes_out={} duration_us={}",
              LogValue(req.method), LogValue(req.path), res.status, LogValue(req.remote_addr),
              req.remote_port, req.get_header_value<uint64_t>("Content-Length"), res.body.size(),
              duration_us);
}

}  // namespace

Result<std::unique_ptr<HttpService>> HttpService::Start(const HttpServiceOptions& options,
                                                        ModelRepository& repository,
                                                        InferHandler& handler, DrainGate& gate,
                                                        const ServerMetrics& metrics) {
  std::unique_ptr<HttpService> service(new HttpService());
  service->options_ = options;
  service->repository_ = &repository;
  service->handler_ = &handler;
  service->gate_ = &gate;
  service->metrics_ = &metrics;
  if (options.tls) {
    const TlsMaterial* tls = options.tls;
    Status configured;
    auto https = std::make_unique<httplib::SSLServer>([tls, &configured](SSL_CTX& context) {
      configured = ConfigureServerContext(*tls, &context);
      return configured.ok();
    });
    if (!https->is_valid()) {
      return configured.ok() ? Internal("HTTPS: cannot create an OpenSSL context") : configured;
    }
    service->server_ = std::move(https);
  } else {
    service->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *service->server_;
  server.new_task_queue = [base = std::max(1, options.threads),
                           max = std::max(1, options.max_connections)] {
    return new HttpConnectionPool(static_cast<size_t>(base), static_cast<size_t>(max));
  };
  // httplib's default sets SO_REUSEPORT, which let a second server on the same port start and
  // silently take half the connections. SO_REUSEADDR alone still allows a quick restart.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<void*>(&yes), sizeof(yes));
  });
  server.set_payload_max_length(options.max_body_bytes);
  server.set_keep_alive_timeout(5);
  service->Route();

  const std::string address = options.host + ":" + std::to_string(options.port);
  service->port_ = options.port == 0
                       ? server.bind_to_any_port(options.host)
                       : (server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (service->port_ <= 0) {
    return Unavailable("HTTP: cannot listen on " + address +
                       " (address in use, or not an address of this host)");
  }
  auto returned = std::make_shared<std::atomic<bool>>(false);
  service->listener_ = std::thread([&server, returned] {
    if (!server.listen_after_bind()) spdlog::error("event=http_listener_failed");
    *returned = true;
  });
  // Stop() must not run before the accept loop has started, or it would not stop it.
  while (!server.is_running() && !*returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return service;
}

HttpService::~HttpService() { Stop(); }

void HttpService::Stop() {
  if (!listener_.joinable()) return;
  server_->stop();
  listener_.join();
}

void HttpService::Route() {
  httplib::Server& s = *server_;
  s.set_pre_routing_handler([this](const Request& req, Response& res) {
    request_start = std::chrono::steady_clock::now();
    if (!options_.auth || IsOpen(req.path)) return HandlerResponse::Unhandled;
    std::optional<std::string_view> authorization;
    const std::string header = req.get_header_value("Authorization");
    if (req.has_header("Authorization")) authorization = header;
    if (Status refused = options_.auth->Check(authorization); !refused.ok()) {
      res.set_header("WWW-Authenticate", "Bearer");
      ReplyError(res, refused);
      return HandlerResponse::Handled;
    }
    return HandlerResponse::Unhandled;
  });
  s.set_logger(AccessLog);
  // Every error answer has a JSON body; those cpp-httplib makes itself (no route, body too large,
  // malformed request) get one here.
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
    if (!res.body.empty()) return HandlerResponse::Unhandled;
    std::string message = "HTTP " + std::to_string(res.status);
    if (res.status == 404) message = "no such endpoint: " + req.method + " " + req.path;
    if (res.status == 413) message = "the request body is larger than --max-message-mb";
    Reply(res, res.status, ErrorJson(message));
    return HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const Request&, Response& res, std::exception_ptr error) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("event=http_exception error={}", LogValue(what));
    Reply(res, 500, ErrorJson("internal error: " + what));
  });

  s.Get("/v2/health/live",
        [](const Request&, Response& res) { Reply(res, 200, R"({"live":true})"); });
  s.Get("/v2/health/ready", [this](const Request&, Response& res) {
    const bool ready = !gate_->closed() && repository_->AllReady();
    Reply(res, ready ? 200 : 503, ready ? R"({"ready":true})" : R"({"ready":false})");
  });
  s.Get("/v2", [](const Request&, Response& res) {
    Reply(res, 200, ServerMetadataJson("seam", SEAM_VERSION, {"model_repository"}));
  });
  s.Get(kModelPath + "/ready", [this](const Request& req, Response& res) {
    const std::string name = ModelName(req);
    Status status = Unavailable("the server is shutting down");
    if (!gate_->closed()) {
      auto model = repository_->Find(name, Version(req));
      status = model.ok() ? (*model)->backend().Health() : model.status();
    }
    nlohmann::json body = {{"name", name}, {"ready", status.ok()}};
    if (!status.ok()) body["error"] = status.message();
    Reply(res, ToHttpStatus(status),
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
  s.Get(kModelPath, [this](const Request& req, Response& res) {
    const std::string name = ModelName(req);
    auto model = repository_->Find(name, Version(req));
    if (!model.ok()) return ReplyError(res, model.status());
    const ModelVersion& version = **model;
    Reply(res, 200,
          ModelMetadataJson(name, repository_->ReadyVersions(name), version.config().platform,
                            version.metadata()));
  });
  // The body is read here rather than by cpp-httplib, which would refuse a JSON body over 8 KiB
  // sent as curl's default form content type (-d without -H 'Content-Type: application/json').
  s.Post(kModelPath + "/infer", [this](const Request& req, Response& res,
                                       const httplib::ContentReader& read) {
    if (req.is_multipart_form_data()) {
      return ReplyError(res, InvalidArgument("expected a JSON body, got multipart form data"));
    }
    std::string body;
    const bool complete = read([&body](const char* data, size_t size) {
      body.append(data, size);
      return true;
    });
    if (!complete) return;  // cpp-httplib set the status (413: too large, 400)
    Infer(req, body, res);
  });
  // Repository control, as Triton's REST API: the index, and load / unload of one model (a
  // synchronous call; loads take turns with the gRPC ones inside the repository).
  s.Post("/v2/repository/index", [this](const Request& req, Response& res) {
    bool ready_only = false;
    if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {  // not blank
      const auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object()) {
        return ReplyError(res, InvalidArgument("repository index: the body must be a JSON object"));
      }
      if (body.contains("ready")) {
        if (!body["ready"].is_boolean()) {
          return ReplyError(res,
                            InvalidArgument("repository index: 'ready' must be true or false"));
        }
        ready_only = body["ready"].get<bool>();
      }
    }
    nlohmann::json index = nlohmann::json::array();
    for (const auto& entry : repository_->Index(ready_only)) {
      nlohmann::json item = {{"name", entry.model}, {"state", entry.state}};
      if (!entry.version.empty()) item["version"] = entry.version;
      if (!entry.reason.empty()) item["reason"] = entry.reason;
      index.push_back(std::move(item));
    }
    Reply(res, 200, index.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
  for (const bool load : {true, false}) {
    const std::string action = load ? "load" : "unload";
    s.Post(R"(/v2/repository/models/([^/]+)/)" + action, [this, load, action](const Request& req,
                                                                              Response& res) {
      if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {  // not blank
        const auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        const bool parameters =
            body.is_object() && body.contains("parameters") && !body["parameters"].empty();
        if (!body.is_object() || parameters) {
          return ReplyError(res, InvalidArgument("repository " + action +
                                                 ": the body must be {} (parameters are "
                                                 "not supported)"));
        }
      }
      if (!gate_->TryEnter()) {
        return ReplyError(res, Unavailable("the server is shutting down"));
      }
      struct Leave {
        DrainGate* gate;
        ~Leave() { gate->Leave(); }
      } leave{gate_};
      const std::string model = req.matches[1].str();
      spdlog::info("event=model_{}_requested protocol=http model={}", action, LogValue(model));
      const Status status = load ? repository_->Load(model) : repository_->Unload(model);
      if (!status.ok()) return ReplyError(res, status);
      Reply(res, 200, "{}");
    });
  }
  s.Get("/metrics", [this](const Request&, Response& res) {
    res.set_content(metrics_->Serialize(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

Result<MemoryBudget::Lease> HttpService::ReserveJson(uint64_t body_bytes) const {
  char what[96];
  std::snprintf(what, sizeof what, "a JSON request body of %.1f MB (parsing takes up to %dx that)",
                static_cast<double>(body_bytes) / 1e6, kJsonMemoryFactor);
  return options_.budget->Reserve(body_bytes * kJsonMemoryFactor, what);
}

void HttpService::Infer(const httplib::Request& req, const std::string& body,
                        httplib::Response& res) {
  const std::string model = ModelName(req);
  const std::string version = Version(req);
  auto refuse = [&](const Status& status) {
    spdlog::info("event=infer_rejected protocol=http model={} version={} code={} error={}",
                 LogValue(model), LogValue(version), StatusCodeName(status.code()),
                 LogValue(status.message()));
    ReplyError(res, status);
  };
  if (req.has_header("Inference-Header-Content-Length")) {
    return refuse(InvalidArgument(
        "binary tensor data (Inference-Header-Content-Length) is not supported; send JSON"));
  }
  if (!gate_->TryEnter()) return ReplyError(res, Unavailable("the server is shutting down"));
  struct Leave {
    DrainGate* gate;
    ~Leave() { gate->Leave(); }
  } leave{gate_};

  // What parsing takes is reserved from the body as read (after any Content-Encoding), not from
  // its Content-Length: a slow client announcing a large body holds nothing while it trickles,
  // and a compressed or chunked one cannot claim less than it is.
  MemoryBudget::Lease parsing;
  if (options_.budget) {
    auto reserved = ReserveJson(body.size());
    if (!reserved.ok()) return refuse(reserved.status());
    parsing = std::move(reserved).value();
  }
  auto request = ParseInferRequestJson(body, model, version);
  parsing.Release();  // the tree is gone; the request holds its own bytes from here on
  if (!request.ok()) return refuse(request.status());
  // Both shared with the callback: the promise must outlive set_value, which may still be
  // returning on a scheduler thread when this thread wakes up, and the response must outlive a
  // job that completes after Infer threw (then this thread has answered 500 and left).
  auto response = std::make_shared<inference::ModelInferResponse>();
  auto answered = std::make_shared<std::promise<Status>>();
  std::future<Status> answer = answered->get_future();
  try {
    handler_->Infer(*request, response.get(),
                    [answered, response](const Status& status) { answered->set_value(status); });
  } catch (const std::exception& e) {
    if (answer.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      spdlog::error("event=http_exception error={}", LogValue(e.what()));
      return ReplyError(res, Internal(std::string("infer: ") + e.what()));
    }
  }
  const Status status = answer.get();
  if (!status.ok()) return ReplyError(res, status);
  auto json = InferResponseJson(*response);
  if (!json.ok()) return ReplyError(res, json.status());
  Reply(res, 200, std::move(json).value());
}

}  // namespace seam::server
