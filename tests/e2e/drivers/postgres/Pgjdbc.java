// The driver matrix scenario (README.md) with pgjdbc: a PreparedStatement becomes the named
// server-side statement S_1 after prepareThreshold (5) executions; an error inside a
// transaction is followed by ROLLBACK.
import java.sql.*;

public class Pgjdbc {
  public static void main(String[] args) throws Exception {
    String extra = args.length > 1 ? args[1] : "SELECT 42 AS answer";
    String t = "items_pgjdbc";
    String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/postgres?sslmode=disable";
    try (Connection c = DriverManager.getConnection(url, "postgres", System.getenv("PGPASSWORD"))) {
      System.out.println("ping " + c.isValid(5));
      try (Statement s = c.createStatement()) {
        s.execute("DROP TABLE IF EXISTS " + t);
        s.execute("CREATE TABLE " + t + " (id int PRIMARY KEY, name text, price numeric(6,2))");
      }
      try (PreparedStatement p = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?, ?)")) {
        for (int i = 1; i <= 6; i++) {
          p.setInt(1, i);
          p.setString(2, "item-" + i);
          if (i == 4) p.setNull(3, Types.NUMERIC); else p.setBigDecimal(3, new java.math.BigDecimal(i * 1.25));
          p.addBatch();
        }
        p.executeBatch();
      }
      try (PreparedStatement p = c.prepareStatement("SELECT name, price FROM " + t + " WHERE id = ?")) {
        for (int i = 1; i <= 7; i++) {
          p.setInt(1, i == 7 ? 2 : i);
          try (ResultSet r = p.executeQuery()) {
            r.next();
            System.out.println("row " + i + " " + r.getString(1) + " " + r.getBigDecimal(2));
          }
        }
      }
      c.setAutoCommit(false);
      try (PreparedStatement p = c.prepareStatement("UPDATE " + t + " SET name = ? WHERE id = ?")) {
        p.setString(1, "changed");
        p.setInt(2, 1);
        p.executeUpdate();
      }
      c.rollback();
      c.setAutoCommit(true);
      try (PreparedStatement p = c.prepareStatement("SELECT name FROM " + t + " WHERE id = ?")) {
        p.setInt(1, 1);
        try (ResultSet r = p.executeQuery()) {
          r.next();
          System.out.println("after rollback " + r.getString(1));
        }
      }
      try (Statement s = c.createStatement()) {
        s.executeQuery("SELECT 1/0");
      } catch (SQLException e) {
        System.out.println("error " + e.getSQLState());
      }
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(extra)) {
        while (r.next()) System.out.println("extra " + r.getString(1));
      } catch (SQLException e) {
        System.out.println("extra failed " + e.getSQLState());
        System.exit(3);
      }
    }
  }
}
