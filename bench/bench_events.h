// Events shared by the benchmarks.
#pragma once

#include <string>

namespace fnguard::bench {

// The 4096-byte API Gateway v2 event lambda_bench hands out per invocation
// (inspect_bench times its inspection as BM_InspectPaddedEvent4K): a small
// request whose JSON body is one 3.5 KB run of a single letter (a long value
// that is only one repeated character, the worst case for the taint
// filter's checks).
inline std::string padded_api_gateway_event_4k() {
  std::string filler(3575, 'a');
  return "{\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":\"/"
         "orders\",\"rawQueryString\":"
         "\"name=alice&page=2\",\"headers\":{\"host\":\"api.example.com\",\"user-agent\":"
         "\"Mozilla/5.0\",\"content-type\":\"application/json\",\"accept\":\"*/*\"},"
         "\"queryStringParameters\":{\"name\":\"alice\",\"page\":\"2\"},\"requestContext\":{"
         "\"accountId\":\"123456789012\",\"apiId\":\"abc\",\"http\":{\"method\":\"POST\",\"path\":"
         "\"/orders\",\"protocol\":\"HTTP/1.1\",\"sourceIp\":\"203.0.113.9\",\"userAgent\":"
         "\"Mozilla/"
         "5.0\"},\"requestId\":\"r1\",\"stage\":\"$default\"},\"body\":\"{\\\"note\\\":\\\"" +
         filler + "\\\"}\",\"isBase64Encoded\":false}";
}

}  // namespace fnguard::bench
