// The driver matrix's standard Redis scenario with redigo: AUTH, plain commands, a pipeline
// (Send, Flush, Receive), MULTI/EXEC with a failing command, MULTI/DISCARD, an error reply, a
// missing key and pub/sub.
// Usage: REDIS_PASSWORD=... redigo PORT PREFIX VALUE. Prints one line per result; an unexpected
// error is printed and ends the run with exit code 1.
package main

import (
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/gomodule/redigo/redis"
)

func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

// show renders a reply: strings for bulk strings, error text for error replies, nil as <nil>.
func show(v interface{}) interface{} {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case redis.Error:
		return "error: " + string(x)
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, e := range x {
			out[i] = show(e)
		}
		return out
	}
	return v
}

func main() {
	port, p, value := os.Args[1], os.Args[2], os.Args[3]
	c, err := redis.Dial("tcp", "127.0.0.1:"+port, redis.DialPassword(os.Getenv("REDIS_PASSWORD")),
		redis.DialReadTimeout(10*time.Second))
	check(err)
	defer c.Close()
	do := func(label string, cmd string, args ...interface{}) {
		v, err := c.Do(cmd, args...)
		check(err)
		fmt.Println(label, show(v))
	}
	do("ping", "PING")
	do("set", "SET", p+":greeting", value)
	do("get", "GET", p+":greeting")
	do("incr", "INCR", p+":counter")
	do("incrby", "INCRBY", p+":counter", 5)
	do("hset", "HSET", p+":user", "name", value, "age", "42")
	user, err := redis.StringMap(c.Do("HGETALL", p+":user"))
	check(err)
	keys := make([]string, 0, len(user))
	for k := range user {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Println("hgetall", k, user[k])
	}
	do("rpush", "RPUSH", p+":list", "a", "b", value)
	do("lrange", "LRANGE", p+":list", 0, -1)

	check(c.Send("SET", p+":p1", 10))
	check(c.Send("INCR", p+":p1"))
	check(c.Send("GET", p+":p1"))
	check(c.Send("LPOP", p+":list"))
	check(c.Flush())
	for i := 0; i < 4; i++ {
		v, err := c.Receive()
		check(err)
		fmt.Println("pipeline", show(v))
	}

	check(c.Send("MULTI"))
	check(c.Send("SET", p+":t1", value))
	check(c.Send("INCR", p+":t1"))
	check(c.Send("GET", p+":t1"))
	do("exec", "EXEC")

	do("multi", "MULTI")
	do("set", "SET", p+":t2", value)
	do("discard", "DISCARD")
	do("get-discarded", "GET", p+":t2")

	_, err = c.Do("INCR", p+":greeting")
	if rerr, ok := err.(redis.Error); ok {
		fmt.Println("incr-string error:", string(rerr))
	} else {
		check(err)
		fmt.Println("incr-string: no error")
	}
	do("missing", "GET", p+":missing")

	// Pub/sub on a connection of its own: two channels, then a bare UNSUBSCRIBE (one reply per
	// channel still subscribed). Counts only: Redis confirms a bare UNSUBSCRIBE in its own order.
	sc, err := redis.Dial("tcp", "127.0.0.1:"+port, redis.DialPassword(os.Getenv("REDIS_PASSWORD")),
		redis.DialReadTimeout(10*time.Second))
	check(err)
	ps := redis.PubSubConn{Conn: sc}
	check(ps.Subscribe(p+":news", p+":weather"))
	check(ps.Unsubscribe())
	for i := 0; i < 4; i++ {
		switch m := ps.Receive().(type) {
		case redis.Subscription:
			fmt.Println("pubsub", m.Kind, m.Count)
		case error:
			check(m)
		}
	}
	check(ps.Close())
}
