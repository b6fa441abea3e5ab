// pgjdbc: a PreparedStatement becomes the named server-side statement S_1 after prepareThreshold
// (5) executions.
import java.sql.*;

public class PgjdbcLoop {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/postgres?sslmode=disable";
    try (Connection c = DriverManager.getConnection(url, "postgres", System.getenv("PGPASSWORD"));
         PreparedStatement p = c.prepareStatement("SELECT name FROM items_passive WHERE id = ?")) {
      if (args[1].equals("once")) {
        for (int i = 1; i <= 6; i++) System.out.println("row " + i + " " + lookup(p, i));
        return;
      }
      for (int i = 1; i <= 6; i++) lookup(p, i);
      System.out.println("warm");
      System.out.flush();
      for (;;) for (int i = 1; i <= 6; i++) { lookup(p, i); Thread.sleep(20); }
    }
  }

  static String lookup(PreparedStatement p, int i) throws SQLException {
    p.setInt(1, i);
    try (ResultSet r = p.executeQuery()) {
      r.next();
      return r.getString(1);
    }
  }
}
