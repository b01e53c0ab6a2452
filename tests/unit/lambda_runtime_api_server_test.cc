// The local Runtime API server speaks the protocol real runtime clients
// expect: a long-poll /next with AWS's headers, 202 for response and error,
// 400 for an unknown request id, init errors, deadlines.
#include "fnguard/lambda/runtime_api_server.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>

#include "fnguard/lambda/http_io.h"

namespace fnguard::lambda {
namespace {

struct Reply {
  http::Head head;
  std::string body;
};

Reply round_trip(const std::string& address, const std::string& request) {
  auto fd = http::connect_tcp(address);
  EXPECT_TRUE(fd.ok());
  EXPECT_TRUE(http::write_all(fd->get(), request).ok());
  http::Reader reader(fd->get());
  Reply r;
  auto head = reader.read_head(false, http::Limits{}, {}, 10000);
  EXPECT_TRUE(head.ok() && head->has_value());
  if (!head.ok() || !head->has_value()) return r;
  r.head = **head;
  EXPECT_TRUE(reader.read_body(r.head, http::Limits{}, nullptr, &r.body, 10000).ok());
  return r;
}

std::string post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST /2018-06-01/runtime/" + path + " HTTP/1.1\r\nHost: x\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const char kNext[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";

FunctionSettings settings(int timeout_s = 10) {
  FunctionSettings s;
  s.name = "unit";
  s.task_root = "/var/task";
  s.handler = "app.handler";
  s.timeout_s = timeout_s;
  return s;
}

// A server with one invocation of `event` in flight; the test plays the
// runtime. (`result` goes first when destroyed: it waits for the answer or
// the deadline while the server still runs.)
struct InFlight {
  std::unique_ptr<RuntimeApiServer> server;
  std::future<InvocationResult> result;
};

InFlight start_invocation(const std::string& event) {
  InFlight f;
  auto started = RuntimeApiServer::start(settings());
  EXPECT_TRUE(started.ok());
  if (!started.ok()) return f;
  f.server = std::move(*started);
  RuntimeApiServer* server = f.server.get();
  f.result = std::async(std::launch::async,
                        [server, event] { return server->invoke(event, [] { return true; }); });
  return f;
}

TEST(LambdaRuntimeApiServer, NextCarriesTheEventAndTheHeadersAwsSends) {
  InFlight f = start_invocation("{\"k\":1}");
  ASSERT_TRUE(f.server != nullptr);
  std::string address = f.server->address();
  Reply next = round_trip(address, kNext);
  EXPECT_EQ(next.head.status, 200);
  EXPECT_EQ(next.body, "{\"k\":1}");
  const std::string* id = next.head.find("Lambda-Runtime-Aws-Request-Id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->size(), 36u);
  ASSERT_NE(next.head.find("Lambda-Runtime-Deadline-Ms"), nullptr);
  EXPECT_EQ(*next.head.find("Lambda-Runtime-Invoked-Function-Arn"),
            "arn:aws:lambda:us-east-1:123456789012:function:unit");
  ASSERT_NE(next.head.find("Lambda-Runtime-Trace-Id"), nullptr);

  Reply unknown = round_trip(address, post("invocation/not-a-request/response", "{}"));
  EXPECT_EQ(unknown.head.status, 400);
  Reply ok = round_trip(address, post("invocation/" + *id + "/response", "{\"answer\":42}"));
  EXPECT_EQ(ok.head.status, 202);
  InvocationResult r = f.result.get();
  EXPECT_EQ(r.kind, InvocationResult::Kind::kResponse);
  EXPECT_EQ(r.body, "{\"answer\":42}");
  EXPECT_EQ(r.request_id, *id);
  // A second answer for the same invocation is refused.
  EXPECT_EQ(round_trip(address, post("invocation/" + *id + "/response", "{}")).head.status, 400);
}

TEST(LambdaRuntimeApiServer, ErrorsAndInitErrorsAreReported) {
  InFlight f = start_invocation("{}");
  ASSERT_TRUE(f.server != nullptr);
  std::string address = f.server->address();
  Reply next = round_trip(address, kNext);
  std::string id = *next.head.find("Lambda-Runtime-Aws-Request-Id");
  EXPECT_EQ(round_trip(address, post("invocation/" + id + "/error", "{\"errorType\":\"Boom\"}",
                                   "Lambda-Runtime-Function-Error-Type: Boom\r\n"))
                .head.status,
            202);
  InvocationResult r = f.result.get();
  EXPECT_EQ(r.kind, InvocationResult::Kind::kError);
  EXPECT_EQ(r.error_type, "Boom");

  EXPECT_EQ(round_trip(address, post("init/error", "{\"errorType\":\"Runtime.ImportModuleError\"}"))
                .head.status,
            202);
  InvocationResult after = f.server->invoke("{}", [] { return true; });
  EXPECT_EQ(after.kind, InvocationResult::Kind::kInitError);
  EXPECT_NE(after.body.find("ImportModuleError"), std::string::npos);
}

TEST(LambdaRuntimeApiServer, StreamedResponseWithAnErrorTrailerIsAnError) {
  InFlight f = start_invocation("{}");
  ASSERT_TRUE(f.server != nullptr);
  std::string address = f.server->address();
  Reply next = round_trip(address, kNext);
  std::string id = *next.head.find("Lambda-Runtime-Aws-Request-Id");
  std::string streamed = "POST /2018-06-01/runtime/invocation/" + id +
                         "/response HTTP/1.1\r\nHost: x\r\n"
                         "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
                         "Transfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\n\r\n"
                         "5\r\npart1\r\n0\r\nLambda-Runtime-Function-Error-Type: Runtime.StreamError\r\n\r\n";
  EXPECT_EQ(round_trip(address, streamed).head.status, 202);
  InvocationResult r = f.result.get();
  EXPECT_EQ(r.kind, InvocationResult::Kind::kError);
  EXPECT_EQ(r.error_type, "Runtime.StreamError");
  EXPECT_EQ(r.body, "part1");
}

TEST(LambdaRuntimeApiServer, DeadlinePassesWithoutAnAnswer) {
  auto server = RuntimeApiServer::start(settings(1));
  ASSERT_TRUE(server.ok());
  InvocationResult r = (*server)->invoke("{}", [] { return true; });
  EXPECT_EQ(r.kind, InvocationResult::Kind::kTimeout);
  EXPECT_NE(r.body.find("Task timed out after 1.00 seconds"), std::string::npos);
}

TEST(LambdaRuntimeApiServer, UnknownPathsAre404AndTheEnvironmentIsComplete) {
  auto server = RuntimeApiServer::start(settings());
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(round_trip((*server)->address(), "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").head.status, 404);
  std::string env;
  for (const std::string& e : (*server)->runtime_environment()) env += e + "\n";
  for (const char* want : {"AWS_LAMBDA_RUNTIME_API=127.0.0.1:", "AWS_LAMBDA_FUNCTION_NAME=unit\n",
                           "_HANDLER=app.handler\n", "LAMBDA_TASK_ROOT=/var/task\n",
                           "AWS_REGION=us-east-1\n", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128\n",
                           "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/unit\n",
                           "AWS_LAMBDA_FUNCTION_VERSION=$LATEST\n"}) {
    EXPECT_NE(env.find(want), std::string::npos) << want;
  }
}

}  // namespace
}  // namespace fnguard::lambda
