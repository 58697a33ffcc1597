/* SPDX-License-Identifier: Apache-2.0 */
/* `podrun VERB --help`: kubectl's layout (what it does, Examples, Options, Usage). The Options
 * lines are also what bash completion offers for a verb (cli_help_flags), so a flag listed here
 * is completed and a flag missing here is not. */
#include "commands.h"
#include "util.h"

#define GLOBAL_HINT "\nUse \"podrun --help\" for a list of global command-line options.\n"

const char help_apply[] =
    "Apply a configuration to a resource by file name or stdin. JSON and YAML formats are\n"
    "accepted: Pods, ConfigMaps, Secrets and Namespaces.\n"
    "\n"
    "Examples:\n"
    "  # Apply the configuration in pod.yaml\n"
    "  podrun apply -f ./pod.yaml\n"
    "\n"
    "  # Apply the YAML passed into stdin\n"
    "  cat pod.yaml | podrun apply -f -\n"
    "\n"
    "Options:\n"
    "  -f, --filename=[]: The files (or directories, or - for stdin) that contain the\n"
    "        configuration to apply.\n"
    "  -n, --namespace='': The namespace for objects that name none.\n"
    "\n"
    "Usage:\n"
    "  podrun apply -f FILENAME [options]\n" GLOBAL_HINT;

const char help_delete[] =
    "Delete resources by file names, stdin, or by resources and names.\n"
    "\n"
    "Examples:\n"
    "  # Delete the objects of pod.yaml\n"
    "  podrun delete -f ./pod.yaml\n"
    "\n"
    "  # Delete the pods foo and bar\n"
    "  podrun delete pod foo bar\n"
    "\n"
    "Options:\n"
    "  -f, --filename=[]: The files (or directories, or - for stdin) that contain the objects\n"
    "        to delete.\n"
    "      --force=false: With --grace-period=0, kill the pod's containers at once, without\n"
    "        preStop hooks.\n"
    "      --grace-period=-1: Seconds the pod's containers get to stop (-1: the pod's\n"
    "        terminationGracePeriodSeconds).\n"
    "      --ignore-not-found=false: Treat \"resource not found\" as a successful delete.\n"
    "  -n, --namespace='': The namespace of the objects.\n"
    "\n"
    "Usage:\n"
    "  podrun delete ([-f FILENAME] | TYPE [(NAME | -l label)]) [options]\n" GLOBAL_HINT;

const char help_get[] =
    "Display one or many resources: pods, configmaps, secrets, namespaces, nodes, events,\n"
    "statefulsets (sts), daemonsets (ds), persistentvolumeclaims (pvc), persistentvolumes (pv).\n"
    "\n"
    "Examples:\n"
    "  # List all pods in ps output format\n"
    "  podrun get pods\n"
    "\n"
    "  # List a single pod in JSON output format\n"
    "  podrun get -o json pod web-pod-13je7\n"
    "\n"
    "  # List pods and watch them change\n"
    "  podrun get pods -w\n"
    "\n"
    "Options:\n"
    "  -A, --all-namespaces=false: If present, list the requested object(s) across all\n"
    "        namespaces.\n"
    "  -n, --namespace='': The namespace to list in.\n"
    "  -l, --selector='': Selector (label query) to filter on (=, ==, !=, in, notin, exists).\n"
    "  -o, --output='': Output format. One of: json, yaml, name, wide.\n"
    "  -w, --watch=false: After listing the requested objects, watch for changes.\n"
    "      --watch-only=false: Watch for changes to the requested object(s), without listing\n"
    "        them first.\n"
    "\n"
    "Usage:\n"
    "  podrun get [(-o|--output=)json|yaml|name|wide] (TYPE [NAME ...] | TYPE/NAME ...)\n"
    "  [flags] [options]\n" GLOBAL_HINT;

const char help_describe[] =
    "Show details of a specific resource or group of resources.\n"
    "\n"
    "Examples:\n"
    "  # Describe a pod\n"
    "  podrun describe pods/nginx\n"
    "\n"
    "  # Describe all pods\n"
    "  podrun describe pods\n"
    "\n"
    "  # Describe the node\n"
    "  podrun describe node\n"
    "\n"
    "Options:\n"
    "  -n, --namespace='': The namespace of the pods.\n"
    "\n"
    "Usage:\n"
    "  podrun describe (TYPE [NAME ...] | TYPE/NAME ...) [options]\n" GLOBAL_HINT;

const char help_logs[] = "Print the logs for a container in a pod.\n"
                         "\n"
                         "Examples:\n"
                         "  # Return snapshot logs from pod nginx with only one container\n"
                         "  podrun logs nginx\n"
                         "\n"
                         "Options:\n"
                         "  -c, --container='': Print the logs of this container.\n"
                         "  -n, --namespace='': The namespace of the pod.\n"
                         "\n"
                         "Usage:\n"
                         "  podrun logs POD [-c CONTAINER] [options]\n" GLOBAL_HINT;

const char help_exec[] =
    "Execute a command in a container.\n"
    "\n"
    "Examples:\n"
    "  # Get output from running the 'date' command from pod mypod\n"
    "  podrun exec mypod -- date\n"
    "\n"
    "  # Switch to raw terminal mode; sends stdin to 'sh' in container app of pod mypod\n"
    "  podrun exec mypod -c app -i -t -- sh\n"
    "\n"
    "Options:\n"
    "  -c, --container='': Container name. If omitted, use the "
    "kubectl.kubernetes.io/default-container annotation for selecting the container to be attached "
    "or the first container in the pod will be chosen\n"
    "  -n, --namespace='': The namespace of the pod.\n"
    "  -i, --stdin=false: Pass stdin to the container.\n"
    "  -t, --tty=false: Stdin is a TTY.\n"
    "\n"
    "Usage:\n"
    "  podrun exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...] "
    "[options]\n" GLOBAL_HINT;

const char help_attach[] =
    "Attach to a process that is already running inside an existing container.\n"
    "\n"
    "Examples:\n"
    "  # Return snapshot logs from pod nginx with only one container\n"
    "  podrun attach mypod\n"
    "\n"
    "  # Get output from ruby-container from pod mypod\n"
    "  podrun attach mypod -c ruby-container\n"
    "\n"
    "  # Switch to raw terminal mode; sends stdin to 'bash' in ruby-container from pod mypod\n"
    "  # and sends stdout/stderr from 'bash' back to the client\n"
    "  podrun attach mypod -c ruby-container -i -t\n"
    "\n"
    "Options:\n"
    "  -c, --container='': Container name. If omitted, use the "
    "kubectl.kubernetes.io/default-container annotation for selecting the container to be attached "
    "or the first container in the pod will be chosen\n"
    "  -n, --namespace='': The namespace of the pod.\n"
    "  -q, --quiet=false: Only print output from the remote session.\n"
    "  -i, --stdin=false: Pass stdin to the container.\n"
    "  -t, --tty=false: Stdin is a TTY.\n"
    "\n"
    "Usage:\n"
    "  podrun attach (POD | TYPE/NAME) -c CONTAINER [options]\n" GLOBAL_HINT;

const char help_run[] =
    "Create and run a particular image in a pod.\n"
    "\n"
    "Examples:\n"
    "  # Start a busybox pod\n"
    "  podrun run sleeper --image=busybox -- sleep 3600\n"
    "\n"
    "  # Start a pod and let the container expose port 80\n"
    "  podrun run web --image=busybox --port=80 -- httpd -f\n"
    "\n"
    "  # Start a pod with labels and environment variables\n"
    "  podrun run app --image=busybox --labels=app=x,tier=y --env=DNS=cluster -- env\n"
    "\n"
    "  # Print the pod as YAML without creating it\n"
    "  podrun run web --image=busybox --dry-run=client -o yaml\n"
    "\n"
    "  # Start a pod with a different command (not the image's entrypoint)\n"
    "  podrun run box --image=busybox --command -- sleep 60\n"
    "\n"
    "Options:\n"
    "      --command=false: If true and extra arguments are present, use them as the 'command'\n"
    "        field in the container, rather than the 'args' field which is the default.\n"
    "      --dry-run='none': Must be \"none\" or \"client\". If client strategy, only print the\n"
    "        object that would be sent, without sending it.\n"
    "      --env=[]: Environment variables to set in the container.\n"
    "      --image='': The image for the container to run.\n"
    "      --image-pull-policy='': The image pull policy for the container.\n"
    "  -l, --labels='': Comma separated labels to apply to the pod. Will override the default\n"
    "        label run=NAME.\n"
    "  -n, --namespace='': The namespace of the pod.\n"
    "  -o, --output='': Output format. One of: json, yaml, name.\n"
    "      --port='': The port that this container exposes.\n"
    "      --restart='Always': The restart policy for this Pod. Legal values [Always,\n"
    "        OnFailure, Never].\n"
    "      --rm=false: If true, delete the pod after it exits. Only valid when attaching to\n"
    "        the container (-i).\n"
    "  -q, --quiet=false: If true, suppress prompt messages.\n"
    "  -i, --stdin=false: Keep stdin open on the container in the pod.\n"
    "  -t, --tty=false: Allocate a TTY for the container in the pod.\n"
    "\n"
    "Usage:\n"
    "  podrun run NAME --image=image [--env=\"key=value\"] [--port=port] [--dry-run=client]\n"
    "  [--command] -- [COMMAND] [args...] [options]\n" GLOBAL_HINT;

const char help_cp[] =
    "Copy files and directories to and from containers.\n"
    "\n"
    "Examples:\n"
    "  # Copy /tmp/foo_dir local directory to /tmp/bar_dir in a pod in the default namespace\n"
    "  podrun cp /tmp/foo_dir some-pod:/tmp/bar_dir\n"
    "\n"
    "  # Copy /tmp/foo local file to /tmp/bar in a specific container\n"
    "  podrun cp /tmp/foo some-pod:/tmp/bar -c specific-container\n"
    "\n"
    "  # Copy /tmp/foo local file to /tmp/bar in a pod in namespace ns\n"
    "  podrun cp /tmp/foo ns/some-pod:/tmp/bar\n"
    "\n"
    "  # Copy /tmp/foo from a pod to /tmp/bar locally\n"
    "  podrun cp some-pod:/tmp/foo /tmp/bar\n"
    "\n"
    "Options:\n"
    "  -c, --container='': Container name. If omitted, use the "
    "kubectl.kubernetes.io/default-container annotation for selecting the container to be attached "
    "or the first container in the pod will be chosen\n"
    "  -n, --namespace='': The namespace of the pod.\n"
    "      --no-preserve=false: The copied file/directory's ownership and permissions will not\n"
    "        be preserved in the container\n"
    "\n"
    "Usage:\n"
    "  podrun cp <file-spec-src> <file-spec-dest> [options]\n" GLOBAL_HINT;

const char help_completion[] =
    "Output shell completion code for the specified shell (bash).\n"
    "\n"
    "Examples:\n"
    "  # Load the podrun completion code for bash into the current shell\n"
    "  source <(podrun completion bash)\n"
    "\n"
    "Usage:\n"
    "  podrun completion SHELL [options]\n" GLOBAL_HINT;

const char help_images[] = "List the images in the image store.\n"
                           "\n"
                           "Options:\n"
                           "      --format='table': Output format. One of: table, json.\n"
                           "  -q, --quiet=false: Print the image ids only.\n"
                           "\n"
                           "Usage:\n"
                           "  podrun images [options]\n" GLOBAL_HINT;

const char help_image[] =
    "Manage images: inspect, prune, ls, rm, load, pull, save, tag, mount, unmount.\n"
    "\n"
    "Examples:\n"
    "  # Show an image's configuration\n"
    "  podrun image inspect busybox\n"
    "\n"
    "Usage:\n"
    "  podrun image inspect|prune|ls|rm|load|pull|save|tag|mount|unmount [ARGS] "
    "[options]\n" GLOBAL_HINT;

const char help_load[] =
    "Import an OCI layout, an oci-archive or a docker-archive into the image store.\n"
    "\n"
    "Options:\n"
    "  -i, --input='': Read from this file or directory instead of stdin.\n"
    "  -q, --quiet=false: Print nothing but errors.\n"
    "\n"
    "Usage:\n"
    "  podrun load [-q] FILE|DIR|- [options]\n" GLOBAL_HINT;

const char help_pull[] = "Download an image from a registry.\n"
                         "\n"
                         "Options:\n"
                         "  -q, --quiet=false: Print nothing but errors.\n"
                         "      --tls-verify=true: Verify the registry's certificate.\n"
                         "\n"
                         "Usage:\n"
                         "  podrun pull [-q] [--tls-verify=false] REF [options]\n" GLOBAL_HINT;

const char help_rmi[] = "Remove images from the image store.\n"
                        "\n"
                        "Options:\n"
                        "  -f, --force=false: Remove images that other names use.\n"
                        "\n"
                        "Usage:\n"
                        "  podrun rmi [-f] IMAGE... [options]\n" GLOBAL_HINT;

const char help_save[] = "Write images as an oci-archive.\n"
                         "\n"
                         "Options:\n"
                         "  -o, --output='': The archive to write.\n"
                         "      --format='oci-archive': The archive's format.\n"
                         "\n"
                         "Usage:\n"
                         "  podrun save -o FILE IMAGE... [options]\n" GLOBAL_HINT;

const char help_tag[] = "Give an image another name.\n"
                        "\n"
                        "Usage:\n"
                        "  podrun tag IMAGE NAME... [options]\n" GLOBAL_HINT;

/* The flags a verb's help lists under Options ("-n=", "--namespace=", "--rm"), for completion;
 * a flag that takes a value ends with '=' (its default is not false or true). */
char **cli_help_flags(const char *help)
{
    char **out = NULL;
    const char *opts = help ? strstr(help, "\nOptions:\n") : NULL;
    if (!opts)
        return NULL;
    /* The section ends at its blank line. */
    for (const char *l = opts + 10; *l && *l != '\n';) {
        const char *end = strchrnul(l, '\n');
        const char *p = l + strspn(l, " ");
        /* "  -n, --namespace='': ..."; a continuation line has no '-' first. */
        if (*p == '-') {
            const char *eq = memchr(p, '=', (size_t)(end - p));
            bool value = eq && strncmp(eq + 1, "false", 5) && strncmp(eq + 1, "true", 4);
            while (p < end && *p == '-') {
                size_t n = strcspn(p, "=:, \n");
                _cleanup_free_ char *flag = xasprintf("%.*s%s", (int)n, p, value ? "=" : "");
                strv_extend(&out, flag);
                p += n;
                if (*p != ',')
                    break;
                p += strspn(p, ", ");
            }
        }
        l = *end ? end + 1 : end;
    }
    return out;
}

const char help_top[] =
    "Display resource (CPU/memory) usage of pods or of the node, from the cgroups: CPU is the\n"
    "rate over two samples 1 s apart, memory the working set (usage minus inactive file pages).\n"
    "\n"
    "Examples:\n"
    "  # Show metrics for all pods in the default namespace\n"
    "  podrun top pod\n"
    "\n"
    "  # Show metrics for the containers of pod web\n"
    "  podrun top pod web --containers\n"
    "\n"
    "  # Show metrics for the node\n"
    "  podrun top node\n"
    "\n"
    "Options:\n"
    "  -A, --all-namespaces=false: List the pods of every namespace.\n"
    "      --containers=false: Show the metrics of each container of the pods.\n"
    "  -l, --selector='': Selector (label query) to filter on.\n"
    "  -n, --namespace='': The namespace of the pods.\n"
    "      --no-headers=false: Print no header line.\n"
    "\n"
    "Usage:\n"
    "  podrun top (pod [NAME | -l label] | node [NAME]) [options]\n" GLOBAL_HINT;

const char help_serve[] =
    "Serve the CRI v1 RuntimeService and ImageService over gRPC on a unix socket, for a kubelet\n"
    "or crictl, until SIGTERM (calls in flight are answered first). See podrun-serve(8).\n"
    "\n"
    "Examples:\n"
    "  # Serve on the default socket, unix:///run/podrun/podrun.sock\n"
    "  podrun serve\n"
    "\n"
    "Options:\n"
    "      --listen='': The socket to serve on, unix://PATH.\n"
    "\n"
    "Usage:\n"
    "  podrun serve [--listen unix://PATH] [options]\n" GLOBAL_HINT;

const char help_expose[] =
    "Expose a pod or a deployment as a new Kubernetes Service: the pod's labels (the\n"
    "deployment's selector) become the service's selector.\n"
    "\n"
    "Examples:\n"
    "  # A service for pod web, on port 8081 to the pod's port 80\n"
    "  podrun expose pod web --port=8081 --target-port=80\n"
    "\n"
    "  # The same, reachable on every node address too\n"
    "  podrun expose pod web --port=8081 --target-port=80 --type=NodePort\n"
    "\n"
    "  # A service for deployment myapp's pods\n"
    "  podrun expose deployment myapp --port=8081 --target-port=80 --name=myapp-service\n"
    "\n"
    "Options:\n"
    "      --name='': The name of the service (default: the pod's).\n"
    "  -n, --namespace='': The namespace of the pod and the service.\n"
    "      --port='': The port the service serves on (default: the pod's first port).\n"
    "      --protocol='': TCP (default) or UDP.\n"
    "      --target-port='': The pod's port, by number or name (default: --port).\n"
    "      --type='': ClusterIP (default) or NodePort.\n"
    "\n"
    "Usage:\n"
    "  podrun expose pod|deployment NAME [--port=port] [--target-port=port] [--type=type] "
    "[options]\n" GLOBAL_HINT;

const char help_create[] =
    "Create a deployment with the specified name, as kubectl create deployment does.\n"
    "\n"
    "Examples:\n"
    "  # A deployment named hello-node that runs busybox with a command\n"
    "  podrun create deployment hello-node --image=busybox -- sleep 3600\n"
    "\n"
    "  # A deployment with 3 replicas exposing port 80\n"
    "  podrun create deployment web --image=busybox --replicas=3 --port=80\n"
    "\n"
    "Options:\n"
    "      --image='': The image for the container.\n"
    "  -n, --namespace='': The namespace of the deployment.\n"
    "      --port=-1: The port the container exposes.\n"
    "  -r, --replicas=1: Number of replicas to create.\n"
    "      --restart='': A cronjob's restartPolicy: OnFailure (default) or Never.\n"
    "      --schedule='': A cronjob's schedule in cron format (UTC).\n"
    "\n"
    "\n"
    "  # A job that runs a command once, and a cronjob that runs one every minute\n"
    "  podrun create job pi --image=busybox -- sh -c 'echo done'\n"
    "  podrun create cronjob hello --image=busybox --schedule='*/1 * * * *' -- date\n"
    "\n"
    "Usage:\n"
    "  podrun create deployment NAME --image=image [--replicas=n] [--port=port] [-- command\n"
    "  [args...]] [options]\n"
    "  podrun create job NAME --image=image [-- command [args...]] [options]\n"
    "  podrun create cronjob NAME --image=image --schedule='0/5 * * * ?' [--restart=OnFailure]\n"
    "  [-- command [args...]] [options]\n" GLOBAL_HINT;

const char help_scale[] =
    "Set a new size for a deployment, replica set or stateful set.\n"
    "\n"
    "Examples:\n"
    "  # Scale the deployment my-app to 5 replicas\n"
    "  podrun scale deployment my-app --replicas=5\n"
    "\n"
    "  # Scale the stateful set web to 3 replicas (web-0, web-1, web-2, made in order)\n"
    "  podrun scale statefulset web --replicas=3\n"
    "\n"
    "Options:\n"
    "  -n, --namespace='': The namespace of the object.\n"
    "      --replicas=0: The new desired number of replicas. Required.\n"
    "\n"
    "Usage:\n"
    "  podrun scale (deployment|replicaset|statefulset) NAME --replicas=COUNT "
    "[options]\n" GLOBAL_HINT;

const char help_rollout[] =
    "Manage the rollout of a deployment: `status` waits until it is complete (or has failed its\n"
    "progress deadline), printing kubectl's messages; `history` lists its revisions (its\n"
    "ReplicaSets) with their change-cause; `undo` rolls back to the previous revision or to\n"
    "--to-revision; `restart` rolls every pod anew; `pause` stops rolling out template changes\n"
    "until `resume`.\n"
    "\n"
    "Examples:\n"
    "  # Watch the rollout status of a deployment\n"
    "  podrun rollout status deployment/web\n"
    "  # Roll back to revision 2\n"
    "  podrun rollout undo deployment/web --to-revision=2\n"
    "\n"
    "Options:\n"
    "  -n, --namespace='': The namespace of the deployment.\n"
    "      --timeout=0: Seconds to wait before giving up (0: no limit).\n"
    "      --revision=0: history: show the pod template of this revision.\n"
    "      --to-revision=0: undo: the revision to roll back to (0: the previous one).\n"
    "\n"
    "Usage:\n"
    "  podrun rollout (status|history|undo|restart|pause|resume) (deployment NAME | "
    "deployment/NAME) [options]\n" GLOBAL_HINT;

const char help_autoscale[] =
    "Create an autoscaler (autoscaling/v2 HorizontalPodAutoscaler) that scales a deployment or\n"
    "replica set between --min and --max pods, towards --cpu-percent of the CPU its pods\n"
    "request, measured from their cgroups by the controller loop.\n"
    "\n"
    "Examples:\n"
    "  # Between 2 and 10 pods, at 70% of the CPU they request\n"
    "  podrun autoscale deployment my-app --cpu-percent=70 --min=2 --max=10\n"
    "\n"
    "Options:\n"
    "      --cpu-percent=-1: The target average CPU utilization over all the pods, in percent\n"
    "        of their requests (default: the controller's, 80).\n"
    "      --max=-1: The upper limit for the number of pods. Required.\n"
    "      --min=-1: The lower limit for the number of pods (default 1).\n"
    "      --name='': The name of the autoscaler (default: the target's).\n"
    "  -n, --namespace='': The namespace of the target.\n"
    "\n"
    "Usage:\n"
    "  podrun autoscale (deployment|replicaset) NAME --max=MAXPODS [--min=MINPODS]\n"
    "  [--cpu-percent=CPU] [options]\n" GLOBAL_HINT;

const char help_set[] = "Update the image of a deployment's containers: a new rollout.\n"
                        "See podrun rollout history, undo and status.\n"
                        "\n"
                        "Examples:\n"
                        "  # Set the image of the container nginx of deployment web\n"
                        "  podrun set image deployment/web nginx=nginx:1.27\n"
                        "  # Every container\n"
                        "  podrun set image deployment/web '*=busybox'\n"
                        "\n"
                        "Options:\n"
                        "  -n, --namespace='': The namespace of the deployment.\n"
                        "\n"
                        "Usage:\n"
                        "  podrun set image (deployment NAME | deployment/NAME) CONTAINER=IMAGE... "
                        "[options]\n" GLOBAL_HINT;
