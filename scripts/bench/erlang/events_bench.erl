%% Erlang distribution's side of scripts/bench/events.sh: the same measurements as the
%% bench-pump actor makes through Troupe, between two Erlang nodes on loopback.
%%
%%   one_way(Node, Events, Bytes, Keys): a process on Node counts {ev, Key, Payload} messages
%%     sent one at a time; the sender then asks for the count (which follows every event on the
%%     same connection). Prints {"msgs_per_s": ...}.
%%   request(Node, Count): Count round trips to an echo process on Node, one after the other.
%%     Prints p50/p99/p999 in microseconds.
%%   spawn(Count): spawns Count idle processes on this node: spawns/s and the resident memory
%%     they added, per process.
-module(events_bench).
-export([main/1, sink/1, echo/0]).

main(["spawn", Count]) ->
    io:format("~s~n", [spawn_many(list_to_integer(Count))]),
    halt(0);
main([NodeName, Mode | Args]) ->
    Node = list_to_atom(NodeName),
    pong = net_adm:ping(Node),
    Result = run(Node, Mode, [list_to_integer(A) || A <- Args]),
    io:format("~s~n", [Result]),
    halt(0).

run(Node, "one_way", [Events, Bytes, Keys]) ->
    Sink = spawn(Node, ?MODULE, sink, [0]),
    Payload = binary:copy(<<"x">>, Bytes),
    KeyList = list_to_tuple([list_to_binary("t-k" ++ integer_to_list(I)) || I <- lists:seq(0, Keys - 1)]),
    Start = erlang:monotonic_time(nanosecond),
    send_loop(Sink, KeyList, Keys, Payload, Events),
    Sink ! {count, self()},
    Counted = receive {counted, N} -> N end,
    Secs = (erlang:monotonic_time(nanosecond) - Start) / 1.0e9,
    exit(Sink, kill),
    io_lib:format("{\"counted\":~b,\"secs\":~f,\"msgs_per_s\":~f}", [Counted, Secs, Counted / Secs]);
run(Node, "request", [Count]) ->
    Echo = spawn(Node, ?MODULE, echo, []),
    Us = lists:sort(round_trips(Echo, Count, [])),
    exit(Echo, kill),
    io_lib:format("{\"count\":~b,\"p50_us\":~f,\"p99_us\":~f,\"p999_us\":~f}",
                  [Count, pct(Us, 0.50), pct(Us, 0.99), pct(Us, 0.999)]).

send_loop(_, _, _, _, 0) -> ok;
send_loop(Sink, Keys, NKeys, Payload, Left) ->
    Sink ! {ev, element(1 + Left rem NKeys, Keys), Payload},
    send_loop(Sink, Keys, NKeys, Payload, Left - 1).

sink(N) ->
    receive
        {ev, _Key, _Payload} -> sink(N + 1);
        {count, From} -> From ! {counted, N}, sink(N)
    end.

echo() ->
    receive {From, Msg} -> From ! {self(), Msg}, echo() end.

round_trips(_, 0, Acc) -> Acc;
round_trips(Echo, Left, Acc) ->
    Start = erlang:monotonic_time(nanosecond),
    Echo ! {self(), <<"rt-k1">>},
    receive {Echo, _} -> ok end,
    Us = (erlang:monotonic_time(nanosecond) - Start) / 1000.0,
    round_trips(Echo, Left - 1, [Us | Acc]).

spawn_many(N) ->
    Before = rss(),
    Start = erlang:monotonic_time(nanosecond),
    Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
    Secs = (erlang:monotonic_time(nanosecond) - Start) / 1.0e9,
    After = rss(),
    [P ! stop || P <- Pids],
    io_lib:format("{\"count\":~b,\"spawns_per_s\":~f,\"bytes_per_actor\":~f}",
                  [N, N / Secs, (After - Before) / N]).

%% This node's resident memory in bytes (VmRSS of /proc/self/status).
rss() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    [Line] = [L || L <- binary:split(Status, <<"\n">>, [global]), binary:match(L, <<"VmRSS:">>) =/= nomatch],
    [_, Kb | _] = binary:split(Line, [<<" ">>, <<"\t">>], [global, trim_all]),
    binary_to_integer(Kb) * 1024.

pct(Sorted, P) ->
    Len = length(Sorted),
    lists:nth(min(Len, 1 + trunc(P * Len)), Sorted).
