package script_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/tessera/tessera/runtime/script"
)

func ExampleCheck() {
	err := script.Check("let total = 0;\nreturn total +;")
	fmt.Println(err)
	// Output: SyntaxError: Unexpected token ; (line 2, column 15)
}

func ExamplePool_Run() {
	exe, _ := os.Executable()
	// In the server: script.NewPool(script.Options{}) starts workers of the running binary.
	// Here the test binary serves as the worker (see TestMain).
	pool, err := script.NewPool(script.Options{Size: 1, Exe: exe, Env: []string{"TESSERA_SANDBOX_WORKER=1"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	host := script.HostFunc(func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
		// The flow engine checks the flow's permissions here.
		return json.RawMessage(`{"items":[{"id":"r1","data":{"name":"张三"}}]}`), nil
	})
	code := `
const leads = records.find('lead', {phone: {eq: input.phone}});
log('found', leads.items.length);
return {duplicate: leads.items.length > 0};`
	res, err := pool.Run(context.Background(), code, map[string]string{"phone": "+8613800138000"}, host)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(res.Output), res.Logs)
	// Output: {"duplicate":true} [found 1]
}
