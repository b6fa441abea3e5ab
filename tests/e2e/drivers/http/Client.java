// The driver matrix's HTTP scenario with Java 17's java.net.http.HttpClient:
// java Client.java BASE [EXTRA_PATH]. No trust store setup: reel's JAVA_TOOL_OPTIONS does it.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

public class Client {
  static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  static HttpResponse<String> call(String url, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    if (json != null) {
      b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public static void main(String[] args) throws Exception {
    String base = args[0];
    HttpResponse<String> r = call(base + "/items/42", null);
    System.out.println("GET /items/42 " + r.statusCode() + " " + r.body());
    r = call(base + "/echo", "{\"word\": \"hello\", \"n\": 7}");
    System.out.println("POST /echo " + r.statusCode() + " " + r.body());
    r = call(base + "/missing", null);
    System.out.println("GET /missing " + r.statusCode() + " " + r.body());
    r = call(base + "/headers", null);
    String trace = r.headers().firstValue("x-reel-trace").orElse("-");
    System.out.println("GET /headers " + r.statusCode() + " " + r.body() + " x-reel-trace=" + trace);
    if (args.length > 1) {
      System.out.println("GET " + args[1] + " " + call(base + args[1], null).statusCode());
    }
  }
}
