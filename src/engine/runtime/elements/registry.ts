import { callActivityProcessor } from './containers/call-activity'
import { subProcessProcessor } from './containers/sub-process'
import { boundaryEventProcessor } from './events/boundary-event'
import { endEventProcessor } from './events/end-event'
import { intermediateCatchEventProcessor } from './events/intermediate-catch-event'
import { intermediateThrowEventProcessor } from './events/intermediate-throw-event'
import { startEventProcessor } from './events/start-event'
import { eventBasedGatewayProcessor } from './gateways/event-based-gateway'
import { exclusiveGatewayProcessor } from './gateways/exclusive-gateway'
import { inclusiveGatewayProcessor } from './gateways/inclusive-gateway'
import { parallelGatewayProcessor } from './gateways/parallel-gateway'
import type { ElementProcessors } from '../processing'
import { businessRuleTaskProcessor } from './tasks/business-rule-task'
import { manualTaskProcessor } from './tasks/manual-task'
import { receiveTaskProcessor } from './tasks/receive-task'
import { scriptTaskProcessor } from './tasks/script-task'
import { sendTaskProcessor } from './tasks/send-task'
import { serviceTaskProcessor } from './tasks/service-task'
import { undefinedTaskProcessor } from './tasks/undefined-task'
import { userTaskProcessor } from './tasks/user-task'

/** One processor per element kind: a kind added to the model and missing here does not compile. */
export const ELEMENT_PROCESSORS: ElementProcessors = {
  startEvent: startEventProcessor,
  endEvent: endEventProcessor,
  intermediateCatchEvent: intermediateCatchEventProcessor,
  intermediateThrowEvent: intermediateThrowEventProcessor,
  boundaryEvent: boundaryEventProcessor,
  serviceTask: serviceTaskProcessor,
  sendTask: sendTaskProcessor,
  scriptTask: scriptTaskProcessor,
  businessRuleTask: businessRuleTaskProcessor,
  userTask: userTaskProcessor,
  receiveTask: receiveTaskProcessor,
  manualTask: manualTaskProcessor,
  task: undefinedTaskProcessor,
  exclusiveGateway: exclusiveGatewayProcessor,
  parallelGateway: parallelGatewayProcessor,
  inclusiveGateway: inclusiveGatewayProcessor,
  eventBasedGateway: eventBasedGatewayProcessor,
  subProcess: subProcessProcessor,
  callActivity: callActivityProcessor,
}
