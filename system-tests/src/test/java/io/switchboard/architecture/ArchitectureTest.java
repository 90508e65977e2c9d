package io.switchboard.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rules that keep the architecture visible, over the production classes of every module: no dependency cycle
 * between capability packages ({@code io.switchboard.<name>}), the edges reach the core only through its service
 * interfaces, the core knows no wire format, and the shared modules know nothing of the capabilities built on them.
 */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // The modules' production classes, from their jars or class folders; not the test jars of the modules
        // whose test helpers this module borrows.
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("io.switchboard");
    }

    @Test
    void shouldSeeEveryModule() {
        for (String p : new String[] {"io.switchboard.session", "io.switchboard.proxy", "io.switchboard.bench",
                "io.switchboard.client", "io.switchboard.doctor", "io.switchboard.swb", "io.switchboard.mqtt", "io.switchboard.loop",
                "io.switchboard.cli"}) {
            org.junit.jupiter.api.Assertions.assertTrue(classes.containPackage(p), "classes of " + p + " imported");
        }
    }

    @Test
    void capabilityPackagesShouldBeFreeOfCycles() {
        slices().matching("io.switchboard.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void theApiShouldReachTheCoreOnlyThroughItsServices() {
        noClasses().that().resideInAPackage("io.switchboard.api..")
                .should().dependOnClassesThat().resideInAnyPackage("io.switchboard.server..",
                        "io.switchboard.session..", "io.switchboard.loop..", "io.switchboard.limits..",
                        "io.switchboard.protocol..", "io.switchboard.store..")
                .check(classes);
    }

    @Test
    void theSessionCoreShouldKnowNoWireFormatNorEdge() {
        noClasses().that().resideInAnyPackage("io.switchboard.session..", "io.switchboard.service..",
                        "io.switchboard.store..")
                .should().dependOnClassesThat().resideInAnyPackage("io.switchboard.protocol..",
                        "io.switchboard.swb..", "io.switchboard.mqtt..", "io.switchboard.api..", "io.switchboard.server..",
                        "io.netty.handler.codec..")
                .check(classes);
    }

    @Test
    void sharedModulesShouldNotDependOnTheCapabilitiesBuiltOnThem() {
        noClasses().that().resideInAnyPackage("io.switchboard.transport..", "io.switchboard.limits..",
                        "io.switchboard.clock..", "io.switchboard.loop..", "io.switchboard.process..",
                        "io.switchboard.options..", "io.switchboard.swb..", "io.switchboard.mqtt..")
                .should().dependOnClassesThat().resideInAnyPackage("io.switchboard.session..",
                        "io.switchboard.server..", "io.switchboard.api..", "io.switchboard.proxy..",
                        "io.switchboard.bench..", "io.switchboard.protocol..", "io.switchboard.client..",
                        "io.switchboard.config..", "io.switchboard.metrics..")
                .check(classes);
    }

    @Test
    void theClientLibraryShouldNotDependOnAnyServerPart() {
        noClasses().that().resideInAPackage("io.switchboard.client..")
                .should().dependOnClassesThat().resideInAnyPackage("io.switchboard.session..",
                        "io.switchboard.server..", "io.switchboard.api..", "io.switchboard.proxy..",
                        "io.switchboard.bench..", "io.switchboard.protocol..", "io.switchboard.config..",
                        "io.switchboard.loop..", "io.switchboard.limits..", "io.switchboard.transport..")
                .check(classes);
    }
}
