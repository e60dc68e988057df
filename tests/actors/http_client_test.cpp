#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "actors/http_client.hpp"
#include "support/http_server.hpp"

using namespace orca;

namespace {

std::shared_ptr<const http_endpoint> endpoint_of(const std::string& url) {
  auto made = http_endpoint::make(url);
  REQUIRE(made);
  return *made;
}

std::vector<http_post> posts_of(const std::vector<std::string>& bodies) {
  std::vector<http_post> posts;
  for (const auto& body : bodies)
    posts.push_back({{{"X-Number", body}}, body});
  return posts;
}

/// Answers each request with its own body, so that answers can be told
/// apart.
test::http_answer echo(const test::http_request_record& request) {
  return {200, request.body};
}

} // namespace

TEST_CASE("posts written back to back on a kept connection are answered in "
          "order, each with its own answer") {
  test::http_server server;
  server.answer_with("/hook", echo);
  auto endpoint = endpoint_of(server.url("/hook"));
  http_endpoint::connection connection;
  CHECK_FALSE(connection.pipelines()); // not open yet

  auto first = endpoint->post(connection, {}, R"({"n":0})", 5000, 1024);
  REQUIRE(first.answered);
  CHECK(connection.pipelines());

  auto outcomes = endpoint->post_batch(
    connection, posts_of({R"({"n":1})", R"({"n":2})", R"({"n":3})"}), 5000,
    1024);
  REQUIRE(outcomes.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("answer " << i);
    CHECK(outcomes[i].answered);
    CHECK(outcomes[i].status == 200);
    CHECK(outcomes[i].body == "{\"n\":" + std::to_string(i + 1) + "}");
    CHECK_FALSE(outcomes[i].not_reached);
  }
  auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(requests[i].body == "{\"n\":" + std::to_string(i) + "}");
    CHECK(requests[i].header("X-Number") == (i == 0 ? "" : requests[i].body));
  }
  CHECK(connection.pipelines());
}

TEST_CASE("posts behind an answer that closes the connection are not "
          "reached, and go again on a new connection") {
  test::http_server server;
  bool closed_once = false;
  server.answer_with("/hook", [&](const test::http_request_record& request) {
    auto answer = echo(request);
    answer.close = !closed_once;
    closed_once = true;
    return answer;
  });
  auto endpoint = endpoint_of(server.url("/hook"));
  http_endpoint::connection connection;

  auto outcomes = endpoint->post_batch(
    connection, posts_of({R"({"n":1})", R"({"n":2})", R"({"n":3})"}), 5000,
    1024);
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].answered);
  CHECK(outcomes[0].body == R"({"n":1})");
  for (std::size_t i = 1; i < 3; ++i) {
    INFO("post " << i);
    CHECK_FALSE(outcomes[i].answered);
    CHECK(outcomes[i].not_reached);
    CHECK_THAT(outcomes[i].error,
               Catch::Contains("closed the connection after an answer"));
  }
  CHECK(server.requests().size() == 1);
  CHECK_FALSE(connection.pipelines());

  auto again = endpoint->post_batch(
    connection, posts_of({R"({"n":2})", R"({"n":3})"}), 5000, 1024);
  REQUIRE(again.size() == 2);
  CHECK(again[0].body == R"({"n":2})");
  CHECK(again[1].body == R"({"n":3})");
  CHECK(server.requests().size() == 3);
}

TEST_CASE("every post of a batch fails, naming the URL, when nobody "
          "listens") {
  std::string url;
  {
    test::http_server gone;
    url = gone.url("/hook");
  }
  auto endpoint = endpoint_of(url);
  http_endpoint::connection connection;
  auto outcomes =
    endpoint->post_batch(connection, posts_of({"{}", "{}"}), 2000, 1024);
  REQUIRE(outcomes.size() == 2);
  for (const auto& outcome : outcomes) {
    CHECK_FALSE(outcome.answered);
    CHECK_FALSE(outcome.not_reached);
    CHECK_THAT(outcome.error, Catch::Contains(url));
  }
}

TEST_CASE("posts behind an answer after which the peer hangs up are not "
          "reached, and the connection stops pipelining") {
  test::http_server server;
  server.answer_with("/hook", [](const test::http_request_record& request) {
    auto answer = echo(request);
    answer.hang_up = request.body == R"({"n":1})";
    return answer;
  });
  auto endpoint = endpoint_of(server.url("/hook"));
  http_endpoint::connection connection;
  REQUIRE(endpoint->post(connection, {}, R"({"n":0})", 5000, 1024).answered);
  auto outcomes = endpoint->post_batch(
    connection, posts_of({R"({"n":1})", R"({"n":2})"}), 5000, 1024);
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].answered); // answered before the hang-up came
  CHECK(outcomes[1].not_reached);
  CHECK_FALSE(connection.pipelines());
}

TEST_CASE("a post whose answer does not come in time fails alone: the posts "
          "behind it are not reached") {
  test::http_server server;
  server.answer_with("/hook", [](const test::http_request_record& request) {
    auto answer = echo(request);
    if (request.body == R"({"n":2})")
      answer.delay = std::chrono::milliseconds{3000};
    return answer;
  });
  auto endpoint = endpoint_of(server.url("/hook"));
  http_endpoint::connection connection;
  REQUIRE(endpoint->post(connection, {}, R"({"n":0})", 5000, 1024).answered);

  SECTION("first in the batch: it fails, timed out") {
    auto outcomes = endpoint->post_batch(
      connection, posts_of({R"({"n":2})", R"({"n":3})"}), 500, 1024);
    REQUIRE(outcomes.size() == 2);
    CHECK_FALSE(outcomes[0].answered);
    CHECK_FALSE(outcomes[0].not_reached);
    CHECK(outcomes[0].code == errc::provider_timeout);
    CHECK_THAT(outcomes[0].error, Catch::Contains("timed out after 500 ms"));
    CHECK(outcomes[1].not_reached);
  }
  SECTION("behind answers: the time ran out on the exchange, so none failed") {
    auto outcomes = endpoint->post_batch(
      connection, posts_of({R"({"n":1})", R"({"n":2})", R"({"n":3})"}), 500,
      1024);
    REQUIRE(outcomes.size() == 3);
    CHECK(outcomes[0].answered);
    CHECK(outcomes[1].not_reached);
    CHECK(outcomes[2].not_reached);
  }
  CHECK_FALSE(connection.pipelines()); // closed after the time-out
}

TEST_CASE("interim 1xx answers are passed over for the final one") {
  // A server that sends 103 Early Hints before each answer: written by
  // hand, since the test server sends one answer a request.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor{
    io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  auto port = acceptor.local_endpoint().port();
  std::thread peer{[&] {
    boost::asio::ip::tcp::socket socket{io};
    acceptor.accept(socket);
    boost::beast::flat_buffer buffer;
    for (int i = 0; i < 2; ++i) {
      boost::beast::http::request<boost::beast::http::string_body> request;
      boost::beast::http::read(socket, buffer, request);
      std::string answer = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                           "HTTP/1.1 200 OK\r\nContent-Length: "
        + std::to_string(request.body().size()) + "\r\n\r\n" + request.body();
      boost::asio::write(socket, boost::asio::buffer(answer));
    }
  }};
  auto endpoint =
    endpoint_of("http://127.0.0.1:" + std::to_string(port) + "/hook");
  http_endpoint::connection connection;
  auto outcomes = endpoint->post_batch(
    connection, posts_of({R"({"n":1})", R"({"n":2})"}), 5000, 1024);
  peer.join();
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].status == 200);
  CHECK(outcomes[0].body == R"({"n":1})");
  CHECK(outcomes[1].status == 200);
  CHECK(outcomes[1].body == R"({"n":2})");
}
