# Signals through the Julia package; included from runtests.jl.
#
# Only real-time signals are used: the Julia runtime keeps SIGINT, SIGUSR1,
# SIGUSR2, SIGSEGV and others for itself. The runtime's own threads do not block
# our signals, so a signal sent to the process while this thread blocks it (and
# is not waiting for it) may be taken by one of them: every test signal gets
# the recording handler first, so that never kills the process. Self-sent
# signals that must stay in this thread use IPC.sigraise (thread-directed); a
# value-carrying signal from another process is sent while this thread waits.

@testset "signals" begin

RT = IPC.sigrtmin()
A, B, C = RT + 5, RT + 6, RT + 7
saved = Dict(s => sigaction(s) for s in (A, B, C))
initial_mask = sigprocmask()
for s in (A, B, C)
    IPC.sigrecord(s)
    IPC.sigrecord_reset(s)
end
uid = ccall(:getuid, Cuint, ())

try

@testset "sets" begin
    s = SigSet()
    @test collect(s) == Int[]
    @test length(s) == 0
    s[A] = true
    s[IPC.SIGUSR1] = true
    s["SIGRTMIN+6"] = true
    @test collect(s) == [10, A, B]
    @test s[A] && A in s && !s[C] && s[:SIGUSR1]
    s[A] = false
    @test !s[A]
    c = copy(s)
    c[C] = true
    @test !s[C] && c[C]
    @test SigSet([10, B]) == s
    @test fill!(s, true) === s
    members = collect(s)
    @test first(members) == 1 && last(members) == IPC.sigrtmax()
    @test !(32 in members) && !(33 in members)
    @test length(s) == 31 + IPC.sigrtmax() - RT + 1
    fill!(s, false)
    @test isempty(collect(s))
    @test IPC.sigaddset!(s, A) === s && IPC.sigismember(s, A)
    @test IPC.sigdelset!(s, A) === s && !IPC.sigismember(s, A)
    @test IPC.sigfillset!(s) === s && IPC.sigemptyset!(s) === s
    for bad in (0, -1, 32, 33, IPC.sigrtmax() + 1)
        @test_throws ArgumentError s[bad]
        @test_throws ArgumentError setindex!(s, true, bad)
        @test_throws ArgumentError setindex!(s, false, bad)
    end
    @test_throws ArgumentError SigSet(["SIGNOPE"])
    @test Base.unsafe_convert(Ptr{Cvoid}, s) != C_NULL
    @test sprint(show, SigSet([IPC.SIGUSR1, RT + 1])) == "SigSet([\"SIGUSR1\", \"SIGRTMIN+1\"])"
    close(s)
    @test !isopen(s)
    @test errno_of(() -> s[A]) == Libc.EBADF
    close(s)                                # closing again does nothing
end

@testset "names and numbers" begin
    @test IPC.sigrtmin() < IPC.sigrtmax()
    for signum in fill!(SigSet(), true)
        @test IPC.signal_number(IPC.signal_name(signum)) == signum
    end
    @test IPC.signal_name(IPC.SIGUSR1) == "SIGUSR1"
    @test IPC.signal_name(RT + 3) == "SIGRTMIN+3"
    @test IPC.signal_name(IPC.sigrtmax() - 1) == "SIGRTMAX-1"
    @test IPC.signal_number("usr2") == IPC.signal_number(:SIGUSR2) == IPC.SIGUSR2
    @test IPC.signal_number("SIGRTMIN") == RT
    for (name, value) in (("HUP", IPC.SIGHUP), ("INT", IPC.SIGINT), ("QUIT", IPC.SIGQUIT),
                          ("ILL", IPC.SIGILL), ("TRAP", IPC.SIGTRAP), ("ABRT", IPC.SIGABRT),
                          ("BUS", IPC.SIGBUS), ("FPE", IPC.SIGFPE), ("KILL", IPC.SIGKILL),
                          ("USR1", IPC.SIGUSR1), ("SEGV", IPC.SIGSEGV), ("USR2", IPC.SIGUSR2),
                          ("PIPE", IPC.SIGPIPE), ("ALRM", IPC.SIGALRM), ("TERM", IPC.SIGTERM),
                          ("CHLD", IPC.SIGCHLD), ("CONT", IPC.SIGCONT), ("STOP", IPC.SIGSTOP),
                          ("TSTP", IPC.SIGTSTP))
        @test IPC.signal_number(name) == value   # the package's constants are the library's
    end
    @test_throws ArgumentError IPC.signal_number("SIGNOPE")
    @test_throws ArgumentError IPC.signal_number("SIGRTMAX+1")
    @test_throws ArgumentError IPC.signal_number("US\0R1")
    @test_throws ArgumentError IPC.signal_name(0)
    @test_throws ArgumentError IPC.signal_name(32)
end

@testset "mask" begin
    before = sigprocmask()
    @test sigprocmask(IPC.SIG_BLOCK, SigSet([A, B])) === nothing
    now = sigprocmask()
    @test now[A] && now[B]
    old = SigSet()
    @test sigprocmask!(IPC.SIG_UNBLOCK, SigSet([A]), old) === old
    @test old == now
    @test !sigprocmask()[A] && sigprocmask()[B]
    @test_throws ArgumentError sigprocmask(99, SigSet([A]))
    @test sigprocmask()[B]                  # a bad `how` changed nothing
    sigprocmask(IPC.SIG_BLOCK, SigSet([IPC.SIGKILL, IPC.SIGSTOP]))
    @test !sigprocmask()[IPC.SIGKILL] && !sigprocmask()[IPC.SIGSTOP]
    sigprocmask(IPC.SIG_SETMASK, before)
    @test sigprocmask() == before
    @test sigprocmask!(SigSet()) == before
end

@testset "sigwait, sigtrywait, sigpending" begin
    mask = SigSet([A, C])
    sigprocmask(IPC.SIG_BLOCK, mask)
    IPC.sigraise(A)                         # pending in this thread
    @test sigpending()[A]
    @test sigpending!(SigSet())[A]
    info = SigInfo()
    @test sigwait!(mask, info, 5) == A
    @test info.signo == A && info.pid == getpid() && info.uid == uid && info.value == 0
    @test IPC.siginfo_signo(info) == A && IPC.siginfo_pid(info) == getpid()
    @test !sigpending()[A]
    IPC.sigraise(C)
    @test sigwait(mask) == C                # no timeout
    @test IPC.sigtrywait!(mask) === nothing
    IPC.sigraise(A)
    @test IPC.sigtrywait!(mask) == A
    t = time_ns()
    @test_throws IPC.TimeoutError sigwait(mask, 0.2)
    @test (time_ns() - t) / 1e9 >= 0.2
    @test_throws IPC.TimeoutError sigwait(mask, 0)
    @test_throws IPC.TimeoutError sigwait(mask, -1)   # IPC.jl: a timeout ≤ 0 polls
    @test_throws ArgumentError sigwait(mask, NaN)
    sigprocmask(IPC.SIG_UNBLOCK, mask)
    @test IPC.sigrecorded(A) == 0 && IPC.sigrecorded(C) == 0   # none went to the handler
end

@testset "values from another process" begin
    sigprocmask(IPC.SIG_BLOCK, SigSet([A]))
    values = (1, -7, 2^40 + 3, typemax(Int64))
    # The child paces its signals, so that each arrives while this thread waits.
    code = "for v in $(values); sleep(0.5); sigqueue($(getpid()), $(A), v); end"
    cmd = `$(Base.julia_cmd()) --startup-file=no --project=$(PROJECT) -e $("using IPC; " * code)`
    child = run(addenv(cmd, "IPC_LIBRARY" => IPC.library()); wait = false)
    got = SigInfo[]
    try
        for _ in values
            info = SigInfo()
            @test sigwait!(SigSet([A]), info, 120) == A
            push!(got, info)
        end
    finally
        wait(child)
        sigprocmask(IPC.SIG_UNBLOCK, SigSet([A]))
    end
    @test success(child)
    @test [i.value for i in got] == collect(values)
    @test all(i -> i.pid == got[1].pid != getpid() && i.uid == uid && i.code == -1, got)
    @test IPC.sigrecorded(A) == 0
end

@testset "recording handler" begin
    @test IPC.sigaction_kind(sigaction(B)) == :record
    @test IPC.sigrecorded(B) == 0 && IPC.sigrecorded_info(B) === nothing
    for v in 1:5
        sigqueue(getpid(), B, v)            # not blocked: delivered to the handler
    end
    deadline = time() + 10
    while IPC.sigrecorded(B) < 5 && time() < deadline
        sleep(0.01)
    end
    @test IPC.sigrecorded(B) == 5           # real-time signals: every one counted
    info = IPC.sigrecorded_info(B)
    @test info.signo == B && info.code == -1 && info.pid == getpid() && info.value in 1:5
    @test IPC.sigrecord_reset(B) == 5
    @test IPC.sigrecorded(B) == 0 && IPC.sigrecorded_info(B) === nothing

    # From another process.
    in_child("sigqueue($(getpid()), $(B), 77)")
    deadline = time() + 10
    while IPC.sigrecorded(B) < 1 && time() < deadline
        sleep(0.01)
    end
    @test IPC.sigrecorded(B) == 1
    @test IPC.sigrecorded_info(B).value == 77 && IPC.sigrecorded_info(B).pid != getpid()
    IPC.sigrecord_reset(B)

    for bad in (0, 32, IPC.sigrtmax() + 1)
        @test_throws ArgumentError IPC.sigrecorded(bad)
        @test_throws ArgumentError IPC.sigrecorded_info(bad)
        @test_throws ArgumentError IPC.sigrecord_reset(bad)
    end
    @test_throws ArgumentError IPC.sigrecord(IPC.SIGKILL)
    @test_throws ArgumentError IPC.sigrecord(B; flags = 1 << 12)
end

@testset "sigsuspend" begin
    # IPC.jl's sigsuspend always failed; this one returns once a handler ran.
    IPC.sigrecord_reset(A)
    sigprocmask(IPC.SIG_BLOCK, SigSet([A]))
    IPC.sigraise(A)                         # blocked: stays pending in this thread
    @test IPC.sigrecorded(A) == 0
    let_in = sigprocmask()
    let_in[A] = false
    @test sigsuspend(let_in) === nothing
    @test IPC.sigrecorded(A) == 1
    @test sigprocmask()[A]                  # the mask is back
    sigprocmask(IPC.SIG_UNBLOCK, SigSet([A]))
    IPC.sigrecord_reset(A)
end

@testset "actions" begin
    act = sigaction(C)
    @test IPC.sigaction_kind(act) == :record && act.handler == IPC.SIG_SAVED
    old = SigAction()
    @test sigaction!(C, SigAction(IPC.SIG_IGN, SigSet(), 0), old) === old
    @test IPC.sigaction_kind(old) == :record && old.handler == IPC.SIG_SAVED
    @test IPC.sigaction_kind(sigaction(C)) == :ignore && sigaction(C).handler == IPC.SIG_IGN
    IPC.sigraise(C)                         # ignored: nothing happens
    sigaction(C, SigAction())               # the default action
    @test sigaction(C).handler == IPC.SIG_DFL
    sigaction(C, old)                       # the recording handler again
    @test IPC.sigaction_kind(sigaction(C)) == :record
    IPC.sigraise(C)
    @test IPC.sigrecorded(C) == 1
    IPC.sigrecord_reset(C)

    # A C function as handler: one that is safe in a signal handler and only
    # reads a counter (it ignores the extra arguments).
    fn = Base.Libc.Libdl.dlsym(Base.Libc.Libdl.dlopen(IPC.library()), :ipc_sig_recorded)
    sigaction(C, SigAction(fn, SigSet([B]), IPC.SA_RESTART))
    act = sigaction(C)
    @test IPC.sigaction_kind(act) == :handler
    @test act.flags == IPC.SA_RESTART && act.mask == SigSet([B])
    IPC.sigraise(C)                         # runs it
    sigaction(C, SigAction(fn, SigSet(), IPC.SA_SIGINFO))
    @test IPC.sigaction_kind(sigaction(C)) == :info
    sigaction(C, old)

    # The runtime's own handlers read as foreign.
    @test IPC.sigaction_kind(sigaction(IPC.SIGSEGV)) == :foreign
    @test IPC.sigaction_kind(sigaction(IPC.SIGKILL)) == :default
    @test_throws ArgumentError sigaction(IPC.SIGKILL, SigAction())
    @test_throws ArgumentError sigaction(IPC.SIGSTOP, SigAction(IPC.SIG_IGN, SigSet(), 0))
    @test_throws ArgumentError sigaction(0)
    @test_throws ArgumentError sigaction(C, SigAction(IPC.SIG_SAVED, SigSet(), 0))
    @test_throws ArgumentError sigaction(C, SigAction(fn, SigSet(), 1 << 12))
    @test occursin("SIG_SAVED", sprint(show, old))
end

finally
    for (s, act) in saved
        sigaction(s, act)
    end
    sigprocmask(IPC.SIG_SETMASK, initial_mask)
end

end # testset signals
