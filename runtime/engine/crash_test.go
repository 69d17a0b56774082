package engine_test

func crashWorkerMain() {}
