// TLS with client certificates: orcad and orcactl with certificates from
// one CA talk; a client with no certificate, or with one from another CA,
// is refused. The certificates are made at test time with openssl.

#include <catch2/catch.hpp>

#include "support/node_process.hpp"
#include "support/orders.hpp"

using namespace orca::test;

namespace {

/// Makes a CA, a node certificate and a client certificate signed by it,
/// and a foreign CA with a client certificate of its own.
void make_certificates(const temp_dir& dir) {
  std::string script = "cd '" + dir.path() + R"(' && (
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=orca-test-ca &&
    openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj /CN=orcad &&
    openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 1 &&
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=orcactl &&
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 1 -subj /CN=other-ca &&
    openssl req -newkey rsa:2048 -nodes -keyout other.key -out other.csr -subj /CN=intruder &&
    openssl x509 -req -in other.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -out other.pem -days 1
  ) >/dev/null 2>&1)";
  REQUIRE(std::system(script.c_str()) == 0);
}

} // namespace

TEST_CASE(
  "with TLS only clients with a certificate from the node's CA get in") {
  temp_dir certs;
  make_certificates(certs);
  node_process node{"",
                    {"--tls-cert", certs.file("node.pem"), "--tls-key",
                     certs.file("node.key"), "--tls-ca", certs.file("ca.pem")}};
  auto with = [&](const std::string& cert, const std::string& key,
                  const std::string& ca) {
    return node.ctl({"flow", "list"}, "",
                    {"--tls-cert", certs.file(cert), "--tls-key",
                     certs.file(key), "--tls-ca", certs.file(ca)});
  };
  auto good = with("client.pem", "client.key", "ca.pem");
  CHECK(good.exit_code == 0);
  CHECK(good.out.rfind("NAME", 0) == 0);

  auto none = node.ctl({"flow", "list"});
  CHECK(none.exit_code == 1);
  CHECK(none.err.rfind("error: cannot reach node " + node.address(), 0) == 0);

  auto foreign = with("other.pem", "other.key", "other-ca.pem");
  CHECK(foreign.exit_code == 1);
  CHECK(foreign.err.rfind("error: cannot reach node", 0) == 0);

  auto foreign_cert = with("other.pem", "other.key", "ca.pem");
  CHECK(foreign_cert.exit_code == 1);

  auto half =
    node.ctl({"flow", "list"}, "", {"--tls-cert", certs.file("client.pem")});
  CHECK(half.exit_code == 2);
  CHECK(half.err
        == "error: TLS needs all of --tls-cert, --tls-key and --tls-ca\n");
  CHECK(node.stop() == 0);
}

TEST_CASE("with TLS a client's message over wire_bytes is cut off and the node "
          "goes on") {
  temp_dir certs;
  make_certificates(certs);
  node_process node{R"({"providers": {"notify": {"kind": "simulated"}},
                        "limits": {"wire_bytes": 65536}})",
                    {"--tls-cert", certs.file("node.pem"), "--tls-key",
                     certs.file("node.key"), "--tls-ca", certs.file("ca.pem")}};
  std::vector<std::string> tls{"--tls-cert", certs.file("client.pem"),
                               "--tls-key",  certs.file("client.key"),
                               "--tls-ca",   certs.file("ca.pem")};
  REQUIRE(
    node.ctl({"flow", "create", example_path("order-to-invoice.json")}, "", tls)
      .exit_code
    == 0);
  REQUIRE(node.ctl({"flow", "publish", "Order to invoice"}, "", tls).exit_code
          == 0);
  // Two hundred orders in one message: far over 64 KiB once encoded.
  std::string big;
  for (int i = 0; i < 200; ++i)
    big += with_id(first_example_order(), "BIG-" + std::to_string(i)) + "\n";
  node.dir().write("big.jsonl", big);
  auto refused =
    node.ctl({"order", "submit", node.dir().file("big.jsonl")}, "", tls);
  CHECK(refused.exit_code == 1);
  auto small =
    node.ctl({"order", "submit", example_path("orders.jsonl")}, "", tls);
  CHECK(small.exit_code == 0);
  auto list = node.ctl({"journey", "list", "--limit", "1000"}, "", tls);
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("SO-1001") != std::string::npos);
  CHECK(list.out.find("BIG-") == std::string::npos);
  REQUIRE(node.stop() == 0);
  std::size_t warnings = 0;
  for (const auto& line : node.log())
    if (line.find("over the limit of 65536 bytes (wire_bytes)")
        != std::string::npos)
      ++warnings;
  CHECK(warnings == 1);
}

TEST_CASE("orcad refuses to start with a TLS certificate it cannot load") {
  temp_dir certs;
  make_certificates(certs);
  certs.write("broken.pem", "not a certificate\n");
  auto r =
    run({ORCAD_PATH, "--data", certs.file("data"), "--listen", "127.0.0.1:0",
         "--tls-cert", certs.file("broken.pem"), "--tls-key",
         certs.file("node.key"), "--tls-ca", certs.file("ca.pem")});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cannot load certificate " + certs.file("broken.pem"))
        != std::string::npos);
}
