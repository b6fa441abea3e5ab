-- The driver matrix scenario for the mariadb command-line client (run with --force: the
-- error in the middle does not stop it). Table and procedure names carry the client's suffix.
SELECT 1 AS health;
DROP TABLE IF EXISTS t_cli;
DROP PROCEDURE IF EXISTS p_cli;
CREATE TABLE t_cli (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2), seen DATETIME);
INSERT INTO t_cli VALUES (1, 'one', 1.50, '2024-01-02 03:04:05'), (2, 'two', NULL, '2024-02-03 04:05:06'),
  (3, NULL, 3.00, NULL), (4, 'four', 4.25, '2024-04-05 06:07:08'),
  (5, 'five', -5.10, '2024-05-06 07:08:09'), (6, 'six', 6.00, '2024-06-07 08:09:10');
PREPARE get_row FROM 'SELECT id, name, price, seen FROM t_cli WHERE id = ?';
SET @id = 1; EXECUTE get_row USING @id;
SET @id = 2; EXECUTE get_row USING @id;
SET @id = 3; EXECUTE get_row USING @id;
SET @id = 4; EXECUTE get_row USING @id;
SET @id = 5; EXECUTE get_row USING @id;
SET @id = 6; EXECUTE get_row USING @id;
DEALLOCATE PREPARE get_row;
START TRANSACTION;
UPDATE t_cli SET name = 'changed' WHERE id = 1;
ROLLBACK;
SELECT name AS after_rollback FROM t_cli WHERE id = 1;
SELECT * FROM no_such_table;
SELECT id, name, price, seen FROM t_cli ORDER BY id;
DELIMITER //
CREATE PROCEDURE p_cli() BEGIN
  SELECT id, price FROM t_cli WHERE price IS NOT NULL ORDER BY id;
  SELECT COUNT(*) AS n, SUM(price) AS total FROM t_cli;
END //
DELIMITER ;
CALL p_cli();
