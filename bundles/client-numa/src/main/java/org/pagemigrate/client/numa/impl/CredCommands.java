package org.pagemigrate.client.numa.impl;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;

/**
 * Task life for permission experiments: {@code mm:fork PID} ({@code fork()}: the child shares the private pages
 * copy-on-write, so they are mapped shared until written) and {@code mm:setuid [-e] PID UID} ({@code setuid()} or
 * {@code seteuid()} by the task itself, dropping capabilities as Linux does when it leaves uid 0).
 */
@Component(service = CredCommands.class)
@GogoCommand(scope = "mm", function = {"fork", "setuid"})
public class CredCommands {
    private final Machine machine;

    @Activate
    public CredCommands(@Reference Machine machine) {
        this.machine = machine;
    }

    @Descriptor("fork(): a child of the task sharing its private pages copy-on-write; returns the child's pid")
    public String fork(@Descriptor("the parent's pid") String pid) {
        Task t = Args.task(machine, "mm:fork", pid);
        return Integer.toString(machine.tasks().fork(t).pid());
    }

    @Descriptor("setuid(UID) (or seteuid with -e) called by the task itself; prints the call and its result")
    public String setuid(
            @Descriptor("seteuid(): change only the effective uid")
            @Parameter(names = {"-e", "--effective"}, presentValue = "true", absentValue = "false") boolean effective,
            @Descriptor("the task's pid") String pid,
            @Descriptor("the new user id") String uid) {
        String cmd = "mm:setuid";
        Task t = Args.task(machine, cmd, pid);
        int u = (int) Args.number(cmd, "uid", uid, 0, Integer.MAX_VALUE);
        int rc = effective ? UserIds.seteuid(machine.tasks(), t, u) : UserIds.setuid(machine.tasks(), t, u);
        return (effective ? "seteuid(" : "setuid(") + u + ") " + Strace.result(rc);
    }
}
