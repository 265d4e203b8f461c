#include "image/image_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "image/image_test_util.h"
#include "util/error.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kPng = testing::encode(cv::Mat(6, 8, CV_8UC3, cv::Scalar(0, 255, 0)), ".png");

// An HTTP server on 127.0.0.1 with the routes the download tests need; counts requests.
class TestServer {
 public:
  TestServer() {
    server_.Get("/ok.png", [this](const httplib::Request&, httplib::Response& res) {
      ++image_requests;
      res.set_content(kPng, "image/png");
    });
    server_.Get("/missing.png",
                [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
    server_.Get("/big.png", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(5000, 'x'), "image/png");
    });
    server_.Get("/big-chunked.png", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("image/png", [](size_t, httplib::DataSink& sink) {
        const std::string block(1000, 'x');
        for (int i = 0; i < 5; ++i) sink.write(block.data(), block.size());
        sink.done();
        return true;
      });
    });
    server_.Get("/slow.png", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      res.set_content(kPng, "image/png");
    });
    server_.Get("/text.png", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<html>gone</html>", "text/html");
    });
    redirect("/redirect.png", "/ok.png");
    redirect("/redirect-relative/x.png", "../ok.png");
    redirect("/loop.png", "/loop.png");
    redirect("/to-ftp.png", "ftp://127.0.0.1/ok.png");
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TestServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::atomic<int> image_requests{0};

 private:
  void redirect(const std::string& from, const std::string& to) {
    server_.Get(
        from, [to](const httplib::Request&, httplib::Response& res) { res.set_redirect(to, 302); });
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "doppel_image_source_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

ImageFetcherOptions options_for(const std::string& name) {
  ImageFetcherOptions o;
  o.cache_dir = fresh_dir(name);
  o.timeout_seconds = 2;
  o.max_bytes = 2000;
  return o;
}

TEST(ImageFetcher, DownloadsOnceThenReadsTheCache) {
  TestServer server;
  const ImageFetcher fetcher(options_for("cache"));
  const std::string url = server.url("/ok.png");
  EXPECT_EQ(fetcher.fetch(url), kPng);
  EXPECT_TRUE(fs::is_regular_file(fetcher.cache_path(url)));
  EXPECT_EQ(read_file(fetcher.cache_path(url)), kPng);
  EXPECT_EQ(fetcher.load(url).size(), cv::Size(8, 6));
  EXPECT_EQ(server.image_requests, 1);  // the second and third use made no request
  // The cache name is a 32-hex-digit hash under a 2-digit folder, different per URL.
  const fs::path path = fetcher.cache_path(url);
  EXPECT_EQ(path.filename().string().size(), 32u);
  EXPECT_EQ(path.parent_path().filename().string(), path.filename().string().substr(0, 2));
  EXPECT_NE(fetcher.cache_path(url + "?v=2"), path);
}

TEST(ImageFetcher, FollowsRedirectsWithinTheLimit) {
  TestServer server;
  const ImageFetcher fetcher(options_for("redirect"));
  EXPECT_EQ(fetcher.fetch(server.url("/redirect.png")), kPng);
  EXPECT_EQ(fetcher.fetch(server.url("/redirect-relative/x.png")), kPng);
  expect_error([&] { fetcher.fetch(server.url("/loop.png")); },
               {"/loop.png", "more than 5 redirects"});
  expect_error([&] { fetcher.fetch(server.url("/to-ftp.png")); }, {"/to-ftp.png", "scheme 'ftp'"});
}

TEST(ImageFetcher, HttpErrorsSizeLimitsAndTimeoutsAreErrors) {
  TestServer server;
  ImageFetcherOptions o = options_for("errors");
  const ImageFetcher fetcher(o);
  expect_error([&] { fetcher.fetch(server.url("/missing.png")); }, {"/missing.png", "HTTP 404"});
  expect_error([&] { fetcher.fetch(server.url("/big.png")); },
               {"/big.png", "larger than the 2000 bytes"});
  expect_error([&] { fetcher.fetch(server.url("/big-chunked.png")); },
               {"/big-chunked.png", "larger than the 2000 bytes"});
  expect_error([&] { fetcher.fetch(server.url("/text.png")); }, {"/text.png", "unsupported"});
  // Nothing that failed was cached.
  EXPECT_FALSE(fs::exists(fetcher.cache_path(server.url("/text.png"))));
  EXPECT_FALSE(fs::exists(fetcher.cache_path(server.url("/big.png"))));

  o.timeout_seconds = 0.2;
  const ImageFetcher impatient(o);
  const auto start = std::chrono::steady_clock::now();
  expect_error([&] { impatient.fetch(server.url("/slow.png")); }, {"/slow.png", "timed out"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(550));
}

TEST(ImageFetcher, RefusesOtherSchemesAndPlainHttpWhenAsked) {
  ImageFetcherOptions o = options_for("schemes");
  expect_error([&] { ImageFetcher(o).fetch("ftp://example.com/a.jpg"); }, {"scheme 'ftp'"});
  expect_error([&] { ImageFetcher(o).fetch("file:///etc/passwd"); }, {"scheme 'file'"});
  EXPECT_TRUE(ImageFetcher::is_url("HTTPS://example.com/a.jpg"));
  EXPECT_FALSE(ImageFetcher::is_url("images/a.jpg"));
  o.allow_http = false;
  expect_error([&] { ImageFetcher(o).fetch("http://127.0.0.1:1/a.jpg"); }, {"plain http"});
  expect_error([&] { ImageFetcher(o).fetch("http://user:pw@127.0.0.1/a.jpg"); }, {"plain http"});
  o.allow_http = true;
  expect_error([&] { ImageFetcher(o).fetch("http://user:pw@127.0.0.1/a.jpg"); }, {"credentials"});
  o.timeout_seconds = 0;
  expect_error([&] { ImageFetcher{o}; }, {"timeout_seconds"});
}

TEST(ImageFetcher, LocalPathsStayInsideTheBaseFolder) {
  const fs::path base = fresh_dir("base");
  fs::create_directories(base / "sub");
  write_file_atomic(base / "sub" / "a.png", kPng);
  ImageFetcherOptions o;
  o.base_dir = base;
  const ImageFetcher fetcher(o);
  EXPECT_EQ(fetcher.fetch("sub/a.png"), kPng);
  EXPECT_EQ(fetcher.fetch("sub/../sub/./a.png"), kPng);
  EXPECT_EQ(fetcher.local_path("sub/a.png"), base / "sub" / "a.png");
  expect_error([&] { fetcher.fetch("../base/sub/a.png"); },
               {"../base/sub/a.png", "leaves the base"});
  expect_error([&] { fetcher.fetch("sub/../../x.png"); }, {"leaves the base"});
  EXPECT_EQ(fetcher.fetch((base / "sub" / "a.png").string()), kPng);  // absolute, inside
  expect_error([&] { fetcher.fetch((base.parent_path() / "other" / "a.png").string()); },
               {"leaves the base"});
  expect_error([&] { fetcher.fetch((base / ".." / "base2" / "a.png").string()); },
               {"leaves the base"});
  expect_error([&] { fetcher.fetch("/etc/passwd"); }, {"leaves the base"});
  expect_error([&] { fetcher.fetch("sub/missing.png"); }, {"sub/missing.png"});
  expect_error([&] { fetcher.fetch(""); }, {"empty image reference"});
  o.max_bytes = 10;
  expect_error([&] { ImageFetcher(o).fetch("sub/a.png"); },
               {"sub/a.png", "more than the 10 allowed"});

  const ImageFetcher anywhere(ImageFetcherOptions{});  // no base folder: paths as given
  EXPECT_EQ(anywhere.fetch((base / "sub" / "a.png").string()), kPng);
  expect_error([&] { anywhere.fetch("http://127.0.0.1:1/a.png"); }, {"no cache folder"});
}

}  // namespace
}  // namespace doppel
