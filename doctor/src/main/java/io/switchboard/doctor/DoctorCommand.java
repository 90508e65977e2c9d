package io.switchboard.doctor;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder while the doctor command is being written; exits 1 so nothing mistakes it for working. */
@Command(name = "doctor", description = "(not built yet)")
public final class DoctorCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("switchboard doctor: not built yet");
        return 1;
    }
}
