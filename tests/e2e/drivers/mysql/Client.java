// The driver matrix scenario with MariaDB Connector/J and useServerPrepStmts=true: every
// PreparedStatement is a server-side one (binary protocol), reused for several executions.
// Usage: java -cp JAR Client.java PORT PASSWORD TABLE [IDS]: IDS (comma-separated, default 1..6).
import java.sql.*;
import java.util.ArrayList;
import java.util.List;

public class Client {
  static String show(ResultSet rs) throws SQLException {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
      String v = rs.getString(i);
      out.add(v == null ? "NULL" : v);
    }
    return String.join(" ", out);
  }

  public static void main(String[] args) throws Exception {
    try {
      run(args);
    } catch (SQLException e) {  // an error the scenario does not expect: code and message
      System.out.println("failed " + e.getErrorCode() + " " + e.getMessage());
      System.exit(1);
    }
    System.out.println("done");
  }

  static void run(String[] args) throws Exception {
    String port = args[0], password = args[1], table = args[2];
    String[] ids = (args.length > 3 ? args[3] : "1,2,3,4,5,6").split(",");
    String proc = "p" + table.substring(1);
    String url = "jdbc:mariadb://127.0.0.1:" + port + "/shop?useServerPrepStmts=true&useSsl=false";
    try (Connection c = DriverManager.getConnection(url, "app", password)) {
      System.out.println("valid " + c.isValid(5));
      try (Statement s = c.createStatement()) {
        try (ResultSet rs = s.executeQuery("SELECT 1")) {
          rs.next();
          System.out.println("health " + rs.getInt(1));
        }
        s.execute("DROP TABLE IF EXISTS " + table);
        s.execute("DROP PROCEDURE IF EXISTS " + proc);
        s.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2), seen DATETIME)");
      }
      Object[][] rows = {{1, "one", "1.50", "2024-01-02 03:04:05"}, {2, "two", null, "2024-02-03 04:05:06"},
          {3, null, "3.00", null}, {4, "four", "4.25", "2024-04-05 06:07:08"},
          {5, "five", "-5.10", "2024-05-06 07:08:09"}, {6, "six", "6.00", "2024-06-07 08:09:10"}};
      try (PreparedStatement p = c.prepareStatement("INSERT INTO " + table + " VALUES (?, ?, ?, ?)")) {
        int n = 0;
        for (Object[] r : rows) {
          p.setInt(1, (Integer) r[0]);
          p.setString(2, (String) r[1]);
          if (r[2] == null) p.setNull(3, Types.DECIMAL); else p.setBigDecimal(3, new java.math.BigDecimal((String) r[2]));
          if (r[3] == null) p.setNull(4, Types.TIMESTAMP); else p.setTimestamp(4, Timestamp.valueOf((String) r[3]));
          n += p.executeUpdate();
        }
        System.out.println("inserted " + n);
      }
      try (PreparedStatement p = c.prepareStatement("SELECT id, name, price, seen FROM " + table + " WHERE id = ?")) {
        for (String id : ids) {
          p.setInt(1, Integer.parseInt(id));
          try (ResultSet rs = p.executeQuery()) {
            System.out.println("get " + id + " " + (rs.next() ? show(rs) : "none"));
          }
        }
      }
      c.setAutoCommit(false);
      try (PreparedStatement p = c.prepareStatement("UPDATE " + table + " SET name = ? WHERE id = ?")) {
        p.setString(1, "changed");
        p.setInt(2, 1);
        System.out.println("updated " + p.executeUpdate());
      }
      c.rollback();
      c.setAutoCommit(true);
      try (PreparedStatement p = c.prepareStatement("SELECT name FROM " + table + " WHERE id = ?")) {
        p.setInt(1, 1);
        try (ResultSet rs = p.executeQuery()) {
          rs.next();
          System.out.println("after rollback " + rs.getString(1));
        }
      }
      try (PreparedStatement p = c.prepareStatement("SELECT * FROM no_such_table")) {
        p.executeQuery();
      } catch (SQLException e) {
        System.out.println("error " + e.getErrorCode());
      }
      try (PreparedStatement p = c.prepareStatement("SELECT id, name, price, seen FROM " + table + " WHERE id > ? ORDER BY id")) {
        p.setInt(1, 0);
        try (ResultSet rs = p.executeQuery()) {
          while (rs.next()) System.out.println("row " + show(rs));
        }
      }
      try (Statement s = c.createStatement()) {
        s.execute("CREATE PROCEDURE " + proc + "() BEGIN SELECT id, price FROM " + table
            + " WHERE price IS NOT NULL ORDER BY id; SELECT COUNT(*) AS n, SUM(price) AS total FROM " + table + "; END");
      }
      try (CallableStatement cs = c.prepareCall("{call " + proc + "()}")) {
        boolean isSet = cs.execute();
        for (int n = 1; isSet || cs.getUpdateCount() != -1; n++, isSet = cs.getMoreResults()) {
          if (!isSet) continue;
          try (ResultSet rs = cs.getResultSet()) {
            while (rs.next()) System.out.println("result " + n + " " + show(rs));
          }
        }
      }
    }
  }
}
